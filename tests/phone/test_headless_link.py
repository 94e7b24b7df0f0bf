"""``HeadlessPhone``, the console's side of the real phone, against the SIP sandbox: it reports state from
the child's lines, refuses actions the phone cannot do now, says why a registration failed, and the
child ends itself when the console's end of its stdin closes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from tui.config import PhoneSettings
from tui.headless_phone import HeadlessPhone, PhoneUnavailable, phone_command
from tui.sandbox import EmbeddedSandbox, SandboxSettings
from tui.sandbox.settings import SEED_PASSWORDS

pytestmark = pytest.mark.timeout(60)

EXT = "quickstart-phone"


@pytest.fixture
async def sip_sandbox() -> AsyncIterator[EmbeddedSandbox]:
    async with EmbeddedSandbox(SandboxSettings(sip=True)) as sandbox:
        yield sandbox


async def settings_for(sandbox: EmbeddedSandbox) -> PhoneSettings:
    async with httpx.AsyncClient(base_url=sandbox.api_url, params={"accesskey": sandbox.accesskey}) as api:
        found = [e for e in (await api.get("/extensions")).json()["result"] if e["extension"] == EXT]
    return PhoneSettings.model_validate(
        {
            "extension": EXT,
            "domain": found[0]["domain_name"],
            "registrar": f"127.0.0.1:{sandbox.sip_port}",
            "transport": "tcp",
            "record": False,
        }
    )


def test_the_password_is_never_on_the_command_line() -> None:
    phone = PhoneSettings.model_validate({"extension": "2000", "domain": "d.example", "password": "pw-123456"})
    command = phone_command(phone, "SOME_VAR")
    assert "pw-123456" not in " ".join(command)
    assert command[command.index("--password-env") + 1] == "SOME_VAR"


async def test_registered_state_refusals_and_stdin_eof_ends_the_child(sip_sandbox: EmbeddedSandbox) -> None:
    phone = HeadlessPhone(await settings_for(sip_sandbox), SEED_PASSWORDS[EXT])
    await phone.start()
    try:
        assert await phone.wait_registered(20)
        assert phone.status.transport == "tcp"
        assert "registered over TCP" in phone.status.summary()
        with pytest.raises(PhoneUnavailable, match="is registered, so it cannot answer"):
            await phone.answer("call-id")
        with pytest.raises(PhoneUnavailable, match="cannot speak"):
            await phone.speak("call-id", "hello")
        proc = phone._proc
        assert proc is not None
        assert proc.stdin is not None
        proc.stdin.close()  # the console went away without closing the phone
        assert await asyncio.wait_for(proc.wait(), 15) == 0
        await asyncio.sleep(0.1)
        assert any(line["kind"] == "unregistered" for line in phone.lines)
    finally:
        await phone.close()


async def test_a_wrong_password_is_a_failed_state_with_the_reason(sip_sandbox: EmbeddedSandbox) -> None:
    phone = HeadlessPhone(await settings_for(sip_sandbox), "not-the-password")
    await phone.start()
    try:
        assert not await phone.wait_registered(20)
        assert phone.status.state == "failed"
        assert "wrong password" in phone.status.error
        with pytest.raises(PhoneUnavailable, match="failed"):
            await phone.hangup("call-id")
    finally:
        await phone.close()
    assert phone.status.state == "failed"
    assert "not-the-password" not in repr(phone.lines)


async def test_no_password_fails_without_starting() -> None:
    phone = HeadlessPhone(PhoneSettings.model_validate({"extension": EXT, "domain": "d"}), "")
    seen: list[str] = []
    phone.listen(lambda status, line: seen.append(status.state))
    phone.fail_now("no password for the phone")
    assert seen == ["failed"]
    assert phone.status.summary() == "failed: no password for the phone"
    with pytest.raises(PhoneUnavailable):
        await phone.reject("x")
    await phone.close()
