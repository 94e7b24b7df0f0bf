"""SDES-SRTP on the sandbox's SIP side: a=crypto parsing, offers and answers, the packet transform, the
negotiation with a raw phone (mismatches fail the call as an SBC would), settings and the missing extra."""

from __future__ import annotations

import asyncio
import base64
import logging
import struct
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pylibsrtp
import pytest

from tests.sandbox.conftest import SandboxFactory, login
from tests.sandbox.sip_client import Msg, RawPhone
from tests.sandbox.test_sip import SIP, call_status, domain, place_call
from tui.sandbox import EmbeddedSandbox
from tui.sandbox.settings import SEED_PASSWORDS
from tui.sandbox.sip.rtp import RtpSession
from tui.sandbox.sip.sdp import SdpError, SessionDescription, parse_audio
from tui.sandbox.sip.srtp import SUITES, CryptoAttribute, CryptoError, SrtpCall, SrtpUnavailable, parse_crypto
from tui.sandbox.standalone import parse_settings, sip_banner

pytestmark = pytest.mark.timeout(60)

KEY = bytes(range(30))
INLINE = base64.b64encode(KEY).decode()


def rtp_packet(seq: int, payload: bytes = b"\xff" * 160, ssrc: int = 0x1234) -> bytes:
    return struct.pack("!BBHII", 0x80, 0, seq, seq * 160, ssrc) + payload


def negotiated() -> tuple[SrtpCall, SrtpCall]:
    """The sandbox's offer answered by a second SrtpCall standing for the phone."""
    sandbox, phone = SrtpCall(), SrtpCall()
    offer = parse_audio(SessionDescription("127.0.0.1", 4000).body(crypto=sandbox.offer()))
    sandbox.accept_answer([phone.answer_offer(offer.crypto)], 0)
    return sandbox, phone


# --- a=crypto and SDP -------------------------------------------------------------------------------


def test_crypto_lines_parse_and_unusable_ones_are_skipped() -> None:
    assert parse_crypto(f"1 AES_CM_128_HMAC_SHA1_80 inline:{INLINE}") == CryptoAttribute(
        1, "AES_CM_128_HMAC_SHA1_80", KEY
    )
    assert parse_crypto(f"7 AES_CM_128_HMAC_SHA1_32 inline:{INLINE}|2^20") == CryptoAttribute(
        7, "AES_CM_128_HMAC_SHA1_32", KEY
    )  # a lifetime is accepted (not modelled)
    assert parse_crypto(f"1 AES_CM_128_HMAC_SHA1_80 inline:{INLINE}|2^20|1:4") is None  # MKI
    assert parse_crypto(f"1 AES_CM_128_HMAC_SHA1_80 inline:{INLINE}|1:4") is None  # MKI without lifetime
    assert parse_crypto(f"1 AEAD_AES_256_GCM inline:{INLINE}") is None  # a suite we do not offer
    assert parse_crypto(f"1 AES_CM_128_HMAC_SHA1_80 inline:{INLINE} UNENCRYPTED_SRTP") is None
    with pytest.raises(CryptoError, match="base64"):
        parse_crypto("1 AES_CM_128_HMAC_SHA1_80 inline:not*base64")
    with pytest.raises(CryptoError, match="16 bytes"):
        parse_crypto(f"1 AES_CM_128_HMAC_SHA1_80 inline:{base64.b64encode(bytes(16)).decode()}")
    with pytest.raises(CryptoError, match="bad a=crypto line"):
        parse_crypto("x AES_CM_128_HMAC_SHA1_80")


def test_offer_is_savp_with_a_fresh_key_per_suite() -> None:
    first, second = SrtpCall(), SrtpCall()
    media = parse_audio(SessionDescription("127.0.0.1", 4000).body(crypto=first.offer()))
    assert media.profile == "RTP/SAVP"
    assert [(c.tag, c.suite) for c in media.crypto] == [(1, SUITES[0]), (2, SUITES[1])]
    assert all(len(c.key) == 30 for c in media.crypto)
    assert (
        len({c.key for c in media.crypto + parse_audio(SessionDescription("h", 1).body(crypto=second.offer())).crypto})
        == 4
    )
    plain = parse_audio(SessionDescription("127.0.0.1", 4000).body())
    assert (plain.profile, plain.crypto) == ("RTP/AVP", [])


def test_sdp_profiles_and_crypto_errors() -> None:
    body = b"v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/SAVP 0\r\n"
    skipped = parse_audio(body + f"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{INLINE}|2^20|1:4\r\n".encode())
    assert (skipped.crypto, skipped.crypto_skipped) == ([], 1)
    with pytest.raises(SdpError, match="16 bytes"):
        parse_audio(body + f"a=crypto:1 {SUITES[0]} inline:{base64.b64encode(bytes(16)).decode()}\r\n".encode())
    for profile in (b"UDP/TLS/RTP/SAVP", b"RTP/SAVPF", b"RTP/AVPF"):
        with pytest.raises(SdpError, match="unsupported media profile"):
            parse_audio(body.replace(b"RTP/SAVP", profile))


def test_answer_must_pick_one_offered_line() -> None:
    offer = SrtpCall()
    with pytest.raises(CryptoError, match="without a usable"):
        offer.accept_answer([], 0)
    with pytest.raises(CryptoError, match="1 skipped"):
        offer.accept_answer([], 1)
    with pytest.raises(CryptoError, match="more than one"):
        offer.accept_answer([CryptoAttribute(1, SUITES[0], KEY), CryptoAttribute(2, SUITES[1], KEY)], 0)
    with pytest.raises(CryptoError, match="not offered"):
        offer.accept_answer([CryptoAttribute(1, SUITES[1], KEY)], 0)  # tag 1 was the _80 suite
    with pytest.raises(CryptoError, match="not offered"):
        offer.accept_answer([CryptoAttribute(3, SUITES[0], KEY)], 0)
    offer.accept_answer([CryptoAttribute(2, SUITES[1], KEY)], 0)
    assert offer.suite == SUITES[1]


def test_a_reoffer_keeps_the_suite_and_answers_with_its_tag() -> None:
    sandbox, _ = negotiated()
    assert sandbox.suite == SUITES[0]
    ours = sandbox.offer()[0].key
    answer = sandbox.answer_offer([CryptoAttribute(5, SUITES[1], KEY), CryptoAttribute(9, SUITES[0], KEY)])
    assert (answer.tag, answer.suite, answer.key) == (9, SUITES[0], ours)
    with pytest.raises(CryptoError):
        sandbox.answer_offer([])


# --- the packet transform ---------------------------------------------------------------------------


@pytest.mark.parametrize("suite", SUITES)
def test_protect_then_unprotect_with_the_peers_key(suite: str) -> None:
    sandbox, phone = SrtpCall(), SrtpCall()
    offered = [c for c in sandbox.offer() if c.suite == suite]
    sandbox.accept_answer([phone.answer_offer(offered)], 0)
    assert sandbox.suite == phone.suite == suite
    for seq in range(1, 20):
        packet = rtp_packet(seq)
        protected = sandbox.protect(packet)
        assert protected is not None
        assert protected[:12] == packet[:12]
        assert protected[12:172] != packet[12:]
        assert len(protected) == len(packet) + (10 if suite.endswith("_80") else 4)
        assert phone.unprotect(protected) == packet
        back = phone.protect(rtp_packet(seq, ssrc=0x99))
        assert back is not None
        assert sandbox.unprotect(back) == rtp_packet(seq, ssrc=0x99)
    assert (sandbox.protected, sandbox.unprotected, sandbox.rejected) == (19, 19, 0)


def test_tampered_replayed_and_junk_packets_are_rejected_and_counted() -> None:
    sandbox, phone = negotiated()
    good = sandbox.protect(rtp_packet(1))
    assert good is not None
    tampered = bytearray(good)
    tampered[20] ^= 0x01
    assert phone.unprotect(bytes(tampered)) is None
    assert phone.unprotect(good) == rtp_packet(1)
    assert phone.unprotect(good) is None  # a replay
    assert phone.unprotect(b"") is None
    assert phone.unprotect(b"\x80\x00") is None
    assert phone.unprotect(rtp_packet(2)) is None  # plain RTP where SRTP is due
    assert (phone.unprotected, phone.rejected) == (1, 5)


def test_nothing_passes_before_the_answer() -> None:
    early = SrtpCall()
    assert early.protect(rtp_packet(1)) is None
    assert early.unprotect(rtp_packet(1)) is None
    assert (early.dropped_before_keys, early.rejected) == (1, 0)


async def test_rtp_session_drops_what_fails_authentication() -> None:
    sandbox, phone = negotiated()
    heard: list[bytes] = []
    session = RtpSession("127.0.0.1", lambda payload, _pt, _at: heard.append(payload))
    session.srtp = sandbox
    good = phone.protect(rtp_packet(1, b"\x10" * 160))
    assert good is not None
    session.received(good[:-1] + bytes([good[-1] ^ 0xFF]), ("127.0.0.1", 1))
    session.received(good, ("127.0.0.1", 1))
    assert heard == [b"\x10" * 160]
    assert (session.stats.received, sandbox.rejected) == (1, 1)


# --- negotiation with a raw phone -------------------------------------------------------------------


@dataclass
class Raw:
    sandbox: EmbeddedSandbox
    phone: RawPhone
    rest: httpx.AsyncClient


@pytest.fixture
async def raw(start_sandbox: SandboxFactory, request: pytest.FixtureRequest) -> AsyncIterator[Raw]:
    """A raw UDP phone registered with a sandbox whose sip_srtp is the test's parameter."""
    sandbox = await start_sandbox(**SIP, sip_srtp=request.param)
    ua = await RawPhone(
        "udp", ("127.0.0.1", sandbox.sip_port), "quickstart-phone", domain(sandbox), SEED_PASSWORDS["quickstart-phone"]
    ).open()
    headers = {"Authorization": f"Bearer {await login(sandbox)}"}
    try:
        assert (await ua.register()).status == 200
        async with httpx.AsyncClient(base_url=sandbox.api_url, headers=headers, timeout=10) as rest:
            yield Raw(sandbox, ua, rest)
    finally:
        ua.close()


def savp(phone: RawPhone, crypto: str) -> bytes:
    return phone.sdp().replace(b"RTP/AVP", b"RTP/SAVP") + (crypto + "\r\n").encode()


async def answer_with(raw: Raw, body: bytes) -> tuple[str, Msg]:
    call_id = await place_call(raw.rest)
    invite = await raw.phone.expect("INVITE")
    raw.phone.reply(invite, 200, "OK", tag="srtp", sdp=body)
    await raw.phone.expect("ACK")
    return call_id, invite


@pytest.mark.parametrize("raw", ["always"], indirect=True)
async def test_plain_answer_to_an_srtp_offer_is_bye_and_failed(raw: Raw, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tui.sandbox.sip")
    call_id, invite = await answer_with(raw, raw.phone.sdp())
    assert b"RTP/SAVP" in invite.body
    assert b"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" in invite.body
    bye = await raw.phone.expect("BYE")
    raw.phone.reply(bye, 200, "OK")
    hung = await call_status(raw.rest, call_id, "hangup")
    assert hung["hangup_reason"] == "failed"
    assert "answered plain RTP/AVP but this call requires SRTP" in caplog.text


@pytest.mark.parametrize("raw", ["tls"], indirect=True)
async def test_srtp_answer_to_a_plain_offer_is_bye_and_failed(raw: Raw, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tui.sandbox.sip")
    call_id, invite = await answer_with(raw, savp(raw.phone, f"a=crypto:1 {SUITES[0]} inline:{INLINE}"))
    assert b"RTP/AVP" in invite.body
    assert b"a=crypto" not in invite.body
    bye = await raw.phone.expect("BYE")
    raw.phone.reply(bye, 200, "OK")
    assert (await call_status(raw.rest, call_id, "hangup"))["hangup_reason"] == "failed"
    assert "answered RTP/SAVP (SRTP) but this call is plain" in caplog.text


@pytest.mark.parametrize("raw", ["always"], indirect=True)
async def test_srtp_answer_media_and_reinvite(raw: Raw) -> None:
    """A keyed answer: the sandbox's packets decrypt with the key it offered; a re-INVITE is answered with
    SRTP under the phone's tag; a plain re-offer gets 488 and the call goes on."""
    phone = raw.phone
    call_id, invite = await answer_with(raw, savp(phone, f"a=crypto:2 {SUITES[1]} inline:{INLINE}"))
    await call_status(raw.rest, call_id, "progressing")
    offered = {c.tag: c for c in parse_audio(invite.body).crypto}
    profile = pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_32
    policy = pylibsrtp.Policy(key=offered[2].key, ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND, srtp_profile=profile)
    rx = pylibsrtp.Session(policy)
    assert phone.rtp is not None
    # The raw phone keeps only levels of what it receives; a fresh packet checks the encryption.
    got: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    protocol = phone.rtp.transport.get_protocol()
    original = protocol.datagram_received  # type: ignore[attr-defined]

    def capture(data: bytes, _addr: object) -> None:
        if not got.done():
            got.set_result(data)

    protocol.datagram_received = capture  # type: ignore[attr-defined]
    try:
        packet = await asyncio.wait_for(got, 2)
    finally:
        protocol.datagram_received = original  # type: ignore[attr-defined]
    plain = rx.unprotect(packet)
    assert len(plain) == len(packet) - 4
    assert plain[1] & 0x7F == 0
    leg = raw.sandbox.core.sip.call_stats(call_id) if raw.sandbox.core and raw.sandbox.core.sip else None
    assert leg is not None
    assert (leg["media_profile"], leg["srtp"]["suite"]) == ("RTP/SAVP", SUITES[1])

    new_key = base64.b64encode(bytes(reversed(range(30)))).decode()
    phone.in_dialog(invite, "INVITE", 1, "srtp", body=savp(phone, f"a=crypto:4 {SUITES[1]} inline:{new_key}"))
    ok = await phone.expect(200)
    answer = parse_audio(ok.body)
    assert answer.profile == "RTP/SAVP"
    assert [(c.tag, c.suite, c.key) for c in answer.crypto] == [(4, SUITES[1], offered[2].key)]
    phone.in_dialog(invite, "ACK", 1, "srtp")
    phone.in_dialog(invite, "INVITE", 2, "srtp", body=phone.sdp())
    assert (await phone.expect(488)).status == 488
    phone.in_dialog(invite, "ACK", 2, "srtp")
    assert (await raw.rest.get(f"/calls/{call_id}")).json()["status"] == "progressing"


# --- settings, the command line, the missing extra --------------------------------------------------


def test_sip_srtp_setting_and_flag() -> None:
    assert parse_settings([], {}).sip_srtp == "tls"
    assert parse_settings(["--sip-srtp", "always"], {}).sip_srtp == "always"
    assert parse_settings([], {"VOIPBIN_SANDBOX__SIP_SRTP": "never"}).sip_srtp == "never"
    with pytest.raises(SystemExit):
        parse_settings(["--sip-srtp", "sometimes"], {})


async def test_without_pylibsrtp_an_srtp_sandbox_names_the_extra(
    start_sandbox: SandboxFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pylibsrtp", None)  # import pylibsrtp now raises ImportError
    with pytest.raises(SrtpUnavailable, match=r"voipbin-tui\[srtp\]"):
        await start_sandbox(**SIP, sip_srtp="always")
    plain = await start_sandbox(**SIP)  # the default asks for SRTP only on TLS: none here
    assert plain.sip_port


async def test_banner_says_which_transport_carries_srtp(start_sandbox: SandboxFactory) -> None:
    data = Path(__file__).with_name("data")
    cert, key = str(data / "sip-test-cert.pem"), str(data / "sip-test-key.pem")
    lines = sip_banner(await start_sandbox(**SIP, sip_tls_cert=cert, sip_tls_key=key))
    by_kind = {line.split()[1]: line for line in lines if line.startswith("  SIP ")}
    assert "SRTP required" in by_kind["TLS"]
    assert "plain RTP" in by_kind["UDP"]
    assert "plain RTP" in by_kind["TCP"]
    always = sip_banner(await start_sandbox(**SIP, sip_srtp="always"))
    assert all("SRTP required" in line for line in always if line.startswith("  SIP "))
