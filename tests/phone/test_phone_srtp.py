"""The phone with ``--srtp`` over TLS against the sandbox's SIP side, which offers SDES-SRTP on TLS as
VoIPBIN does: a whole call with audio both ways, per engine; a phone without SRTP on TLS fails clearly."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from tests.phone.conftest import PhoneProcess, start_phone
from tests.phone.test_phone_sandbox import (
    EXT,
    LINE,
    call_status,
    dial,
    extension_domain,
    hang_up_from_sandbox,
    in_transcripts,
)
from tui.sandbox import EmbeddedSandbox, SandboxSettings
from tui.sandbox.settings import SEED_PASSWORDS

pytestmark = pytest.mark.timeout(90)


def tls_settings(tmp_path: Path, **extra: Any) -> SandboxSettings:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    return SandboxSettings(
        sip=True, sip_tls_cert=str(tmp_path / "server.pem"), sip_tls_key=str(tmp_path / "key.pem"), **extra
    )


def tls_phone_args(sandbox: EmbeddedSandbox, domain: str, tmp_path: Path, engine: str) -> list[str]:
    return [
        "--extension", EXT, "--domain", domain, "--registrar", f"127.0.0.1:{sandbox.sip_tls_port}",
        "--transport", "tls", "--tls-ca-file", str(tmp_path / "ca.pem"), "--engine", engine,
        "--answer-delay", "0.3",
    ]  # fmt: skip


@contextlib.asynccontextmanager
async def tls_sandbox_and_phone(
    tmp_path: Path, phone_args: list[str], engine: str = "baresip", **settings: Any
) -> AsyncIterator[tuple[EmbeddedSandbox, httpx.AsyncClient, PhoneProcess, dict[str, Any]]]:
    """A SIP sandbox with TLS, its API, and the phone registered over TLS (its `registered` line)."""
    async with EmbeddedSandbox(tls_settings(tmp_path, **settings), sip_tls_port=0) as sandbox:
        params = {"accesskey": sandbox.accesskey}
        async with httpx.AsyncClient(base_url=sandbox.api_url, params=params, timeout=10) as api:
            domain = await extension_domain(api, EXT)
            args = [*tls_phone_args(sandbox, domain, tmp_path, engine), *phone_args]
            phone = await start_phone(args, tmp_path, {"PHONE_TEST_PW": SEED_PASSWORDS[EXT]})
            try:
                registered = await phone.next("registered", timeout=15)
                yield sandbox, api, phone, registered
            finally:
                phone.kill()


@pytest.mark.parametrize("engine", ["baresip", "pjsua2"])
async def test_srtp_call_over_tls_with_audio_both_ways(tmp_path: Path, engine: str) -> None:
    phone_args = ["--srtp", "--say", LINE, "--once"]
    async with tls_sandbox_and_phone(tmp_path, phone_args, engine) as (sandbox, api, phone, registered):
        assert (registered["transport"], registered["srtp"]) == ("tls", True)
        call_id = await dial(api)
        await phone.next("answered")
        await call_status(api, call_id, "progressing")
        # Sandbox -> phone: the greeting, decrypted by the phone, heard as an energy segment.
        heard = await phone.next("heard", timeout=15)
        assert heard["duration"] > 0.8, heard
        said = await phone.next("said", timeout=10)
        assert said["text"] == LINE
        # Phone -> sandbox: its line, decrypted by the sandbox, segmented into an `in` transcript.
        rows = await in_transcripts(api, call_id)
        assert rows, "the sandbox heard nothing from the phone"
        leg = sandbox.core.sip.call_stats(call_id) if sandbox.core and sandbox.core.sip else None
        assert leg is not None
        assert leg["media_profile"] == "RTP/SAVP"
        srtp = leg["srtp"]
        assert srtp["suite"].startswith("AES_CM_128_HMAC_SHA1_"), srtp
        assert srtp["protected"] > 50, srtp
        assert srtp["unprotected"] > 50, srtp
        assert srtp["rejected"] == 0, srtp
        assert leg["in_speech_segments"] >= 1, leg
        await hang_up_from_sandbox(api, call_id, phone)
    rtp = phone.of("rtp")[-1]
    assert rtp["tx_packets"] > 50, rtp
    assert rtp["rx_packets"] > 50, rtp


async def test_a_phone_without_srtp_on_tls_fails_the_call(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """VoIPBIN requires SRTP on TLS: a phone that answers plain RTP gets a BYE and the call `failed`."""
    caplog.set_level(logging.INFO, logger="tui.sandbox.sip")
    async with tls_sandbox_and_phone(tmp_path, ["--once"]) as (_sandbox, api, phone, _registered):
        call_id = await dial(api)
        ended = await call_status(api, call_id, "hangup", timeout=15)
        assert ended["hangup_reason"] == "failed", ended
        assert not phone.of("answered")
        # baresip without SRTP refuses an RTP/SAVP offer with 488; the log says why the call failed.
        assert "refused the SRTP offer (488)" in caplog.text
        code, err = await phone.finish(interrupt=True)
        assert code == 0, err


async def test_srtp_never_keeps_tls_calls_plain(tmp_path: Path) -> None:
    async with tls_sandbox_and_phone(tmp_path, ["--once"], sip_srtp="never") as (sandbox, api, phone, _registered):
        call_id = await dial(api)
        await phone.next("answered")
        heard = await phone.next("heard", timeout=15)
        assert heard["duration"] > 0.8, heard
        leg = sandbox.core.sip.call_stats(call_id) if sandbox.core and sandbox.core.sip else None
        assert leg is not None
        assert (leg["media_profile"], leg["srtp"]) == ("RTP/AVP", None)
        await hang_up_from_sandbox(api, call_id, phone)
