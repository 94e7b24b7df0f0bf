"""The phone (a real `voipbin-tui phone` process) against the sandbox's SIP side: the quickstart call
with real RTP both ways, over UDP and TCP; the pjsua2 engine as an independent user agent; bad input."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from tests.phone.conftest import PhoneProcess, start_phone
from tui.sandbox import EmbeddedSandbox, SandboxSettings
from tui.sandbox.settings import SEED_PASSWORDS

pytestmark = pytest.mark.timeout(90)

GREETING = "Hello. This is the VoIPBIN test."
LINE = "I would like a table for two tonight."
EXT = "quickstart-phone"


@pytest.fixture
async def sip_sandbox() -> AsyncIterator[EmbeddedSandbox]:
    async with EmbeddedSandbox(SandboxSettings(sip=True, random_seed=3)) as sandbox:
        yield sandbox


@pytest.fixture
async def api(sip_sandbox: EmbeddedSandbox) -> AsyncIterator[httpx.AsyncClient]:
    params = {"accesskey": sip_sandbox.accesskey}
    async with httpx.AsyncClient(base_url=sip_sandbox.api_url, params=params, timeout=10) as client:
        yield client


async def extension_domain(api: httpx.AsyncClient, extension: str) -> str:
    """What a user does: read the extension's domain from GET /extensions."""
    found = [e for e in (await api.get("/extensions")).json()["result"] if e["extension"] == extension]
    assert found, extension
    domain = found[0]["domain_name"]
    assert isinstance(domain, str)
    assert domain
    return domain


async def start_sandbox_phone(
    sandbox: EmbeddedSandbox,
    domain: str,
    tmp_path: Path,
    *,
    transport: str = "udp",
    engine: str = "baresip",
    password: str = SEED_PASSWORDS[EXT],
    extension: str = EXT,
    extra: list[str] | None = None,
) -> PhoneProcess:
    args = [
        "--extension",
        extension,
        "--domain",
        domain,
        "--registrar",
        f"127.0.0.1:{sandbox.sip_port}",
        "--transport",
        transport,
        "--engine",
        engine,
        "--answer-delay",
        "0.3",
        *(extra or []),
    ]
    return await start_phone(args, tmp_path, {"PHONE_TEST_PW": password})


async def dial(api: httpx.AsyncClient, sleep_ms: int = 20_000) -> str:
    body = {
        "source": {"type": "tel", "target": "+15551234567"},
        "destinations": [{"type": "extension", "target_name": EXT}],
        "actions": [
            {"type": "transcribe_start", "option": {"language": "en-US"}},
            {"type": "talk", "option": {"text": GREETING, "language": "en-US"}},
            {"type": "sleep", "option": {"duration": sleep_ms}},
        ],
    }
    response = await api.post("/calls", json=body)
    assert response.status_code == 200, response.text
    call_id: str = response.json()["groupcalls"][0]["call_ids"][0]
    return call_id


async def call_status(api: httpx.AsyncClient, call_id: str, wanted: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        response = await api.get(f"/calls/{call_id}")
        if response.status_code == 200:
            last = response.json()
            if last["status"] == wanted:
                return dict(last)
        await asyncio.sleep(0.05)
    raise AssertionError(f"call never reached {wanted}; last {last}")


async def hang_up_from_sandbox(api: httpx.AsyncClient, call_id: str, phone: PhoneProcess) -> str:
    """POST /calls/{id}/hangup: the phone gets the BYE, says so, and exits cleanly; its stderr."""
    assert (await api.post(f"/calls/{call_id}/hangup")).status_code == 200
    hangup = await phone.next("hangup", timeout=10)
    assert hangup["by"] == "remote"
    code, err = await phone.finish()
    assert code == 0, err
    return err


async def in_transcripts(api: httpx.AsyncClient, call_id: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        transcribes = (
            await api.get("/transcribes", params={"reference_type": "call", "reference_id": call_id})
        ).json()["result"]
        for transcribe in transcribes:
            rows = (await api.get("/transcripts", params={"transcribe_id": transcribe["id"]})).json()["result"]
            found = [r for r in rows if r["direction"] == "in"]
            if found:
                return list(found)
        await asyncio.sleep(0.2)
    return []


@pytest.mark.parametrize(("engine", "transport"), [("baresip", "udp"), ("baresip", "tcp"), ("pjsua2", "tcp")])
async def test_quickstart_with_real_audio(
    sip_sandbox: EmbeddedSandbox, api: httpx.AsyncClient, tmp_path: Path, engine: str, transport: str
) -> None:
    domain = await extension_domain(api, EXT)
    phone = await start_sandbox_phone(
        sip_sandbox, domain, tmp_path, transport=transport, engine=engine, extra=["--say", LINE, "--once"]
    )
    try:
        registered = await phone.next("registered")
        assert registered["domain"] == domain
        assert registered["transport"] == transport
        call_id = await dial(api)
        await phone.next("incoming")
        answered = await phone.next("answered")
        assert answered["engine"] == engine
        await call_status(api, call_id, "progressing")
        heard = await phone.next("heard", timeout=15)
        # The greeting starts soon after answer and lasts about as long as its text takes to say.
        assert heard["start"] < 2.0, heard
        assert heard["duration"] > 0.8, heard
        said = await phone.next("said", timeout=10)
        assert said["text"] == LINE
        assert said["start"] >= heard["end"]
        assert said["duration"] > 1.0
        rows = await in_transcripts(api, call_id)
        assert rows, "the sandbox heard nothing from the phone"
        # The phone hangs up from the sandbox side (POST /calls/{id}/hangup): BYE to the phone.
        err = await hang_up_from_sandbox(api, call_id, phone)
    finally:
        phone.kill()
    rtp = phone.of("rtp")[-1]
    assert rtp["tx_packets"] > 50, rtp
    assert SEED_PASSWORDS[EXT] not in "".join(phone.raw) + err


@pytest.mark.parametrize("hangup_by", ["sandbox", "phone"])
async def test_tls_registration_and_call(tmp_path: Path, hangup_by: str) -> None:
    # --srtp: on TLS the sandbox, like VoIPBIN, requires SRTP (tests/phone/test_phone_srtp.py).
    engine = "baresip"
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    settings = SandboxSettings(
        sip=True, sip_tls_cert=str(tmp_path / "server.pem"), sip_tls_key=str(tmp_path / "key.pem")
    )
    async with EmbeddedSandbox(settings, sip_tls_port=0) as sandbox:
        params = {"accesskey": sandbox.accesskey}
        async with httpx.AsyncClient(base_url=sandbox.api_url, params=params, timeout=10) as api:
            domain = await extension_domain(api, EXT)
            args = [
                "--extension", EXT, "--domain", domain, "--registrar", f"127.0.0.1:{sandbox.sip_tls_port}",
                "--transport", "tls", "--tls-ca-file", str(tmp_path / "ca.pem"), "--engine", engine,
                "--answer-delay", "0.2", "--once", "--srtp",
            ]  # fmt: skip
            phone = await start_phone(args, tmp_path, {"PHONE_TEST_PW": SEED_PASSWORDS[EXT]})
            try:
                registered = await phone.next("registered")
                assert registered["transport"] == "tls"
                call_id = await dial(api)
                await phone.next("answered")
                heard = await phone.next("heard", timeout=10)
                assert heard["duration"] > 0.8
                if hangup_by == "sandbox":
                    # The sandbox's BYE reaches the phone over the TLS connection.
                    assert (await api.post(f"/calls/{call_id}/hangup")).status_code == 200
                    hangup = await phone.next("hangup", timeout=10)
                    assert hangup["by"] == "remote"
                else:
                    # The phone's BYE reaches the sandbox: its Contact is `sip:…;transport=tls`, which libre
                    # sends in-dialog requests to (it sent none to a `sips:` Contact).
                    await phone.send("hangup")
                    hangup = await phone.next("hangup", timeout=10)
                    assert hangup["by"] == "local"
                    call = await call_status(api, call_id, "hangup")
                    assert call["hangup_by"] == "remote", call
                code, err = await phone.finish()
                assert code == 0, err
            finally:
                phone.kill()


async def test_untrusted_tls_certificate_is_refused(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    settings = SandboxSettings(
        sip=True, sip_tls_cert=str(tmp_path / "server.pem"), sip_tls_key=str(tmp_path / "key.pem")
    )
    async with EmbeddedSandbox(settings, sip_tls_port=0) as sandbox:
        args = [
            "--extension", EXT, "--domain", "example.invalid", "--registrar", f"127.0.0.1:{sandbox.sip_tls_port}",
            "--transport", "tls",
        ]  # fmt: skip
        phone = await start_phone(args, tmp_path, {"PHONE_TEST_PW": SEED_PASSWORDS[EXT]})
        code, _ = await phone.finish(timeout=20)
    assert code == 1
    assert "--tls-ca-file" in phone.of("error")[0]["message"]


async def test_phone_hangs_up_on_the_sandbox(
    sip_sandbox: EmbeddedSandbox, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    domain = await extension_domain(api, EXT)
    phone = await start_sandbox_phone(sip_sandbox, domain, tmp_path, extra=["--hangup-after", "1", "--once"])
    try:
        await phone.next("registered")
        call_id = await dial(api)
        await phone.next("answered")
        hangup = await phone.next("hangup", timeout=10)
        assert hangup["by"] == "local"
        ended = await call_status(api, call_id, "hangup")
        assert ended["hangup_by"] == "remote", ended
        code, _ = await phone.finish()
        assert code == 0
    finally:
        phone.kill()


async def test_wrong_password_is_a_clear_401(
    sip_sandbox: EmbeddedSandbox, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    domain = await extension_domain(api, EXT)
    wrong = "not-the-password-123"
    phone = await start_sandbox_phone(sip_sandbox, domain, tmp_path, password=wrong, transport="tcp")
    code, err = await phone.finish(timeout=20)
    assert code == 1
    error = phone.of("error")[0]
    assert error["stage"] == "register"
    assert error["status"] in (401, 403)
    assert "wrong password" in error["message"]
    assert EXT in error["message"]
    assert "registration failed" in err
    assert wrong not in "".join(phone.raw) + err


async def test_unknown_extension_is_named(sip_sandbox: EmbeddedSandbox, api: httpx.AsyncClient, tmp_path: Path) -> None:
    domain = await extension_domain(api, EXT)
    phone = await start_sandbox_phone(sip_sandbox, domain, tmp_path, extension="9999", password="whatever-pw")
    code, _ = await phone.finish(timeout=20)
    assert code == 1
    error = phone.of("error")[0]
    assert error["status"] in (403, 404), error
    assert "9999" in error["message"]
