"""The sandbox's SIP side over loopback, driven by a tiny raw SIP phone (UDP and TCP)."""

from __future__ import annotations

import array
import asyncio
import json
import re
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.sandbox.conftest import EventLog, SandboxFactory, login
from tests.sandbox.sip_client import Msg, RawPhone
from tui.sandbox import EmbeddedSandbox
from tui.sandbox.settings import SEED_PASSWORDS

pytestmark = pytest.mark.timeout(60)

SIP = {"sip": True, "ring_delay": 0.2, "answer_delay": 0.2, "dial_timeout": 20.0}


def call_body(greeting: str = "Hello there, this is a test.", sleep_ms: int = 30000) -> dict[str, Any]:
    return {
        "source": {"type": "tel", "target": "+15551234567"},
        "destinations": [{"type": "extension", "target_name": "quickstart-phone"}],
        "actions": [
            {"type": "transcribe_start", "option": {"language": "en-US"}},
            {"type": "talk", "option": {"text": greeting}},
            {"type": "sleep", "option": {"duration": sleep_ms}},
        ],
    }


@pytest.fixture
async def sip_sandbox(start_sandbox: SandboxFactory) -> EmbeddedSandbox:
    return await start_sandbox(**SIP)


@pytest.fixture
async def rest(sip_sandbox: EmbeddedSandbox) -> AsyncIterator[httpx.AsyncClient]:
    token = await login(sip_sandbox)
    async with httpx.AsyncClient(
        base_url=sip_sandbox.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:
        yield client


@pytest.fixture
async def events(sip_sandbox: EmbeddedSandbox) -> AsyncIterator[EventLog]:
    token = await login(sip_sandbox)
    ws = await websockets.connect(f"{sip_sandbox.ws_url}?token={token}")
    log = EventLog(ws)
    topic = f"customer_id:{sip_sandbox.customer_id}:transcript:transcript_"
    await ws.send(json.dumps({"type": "subscribe", "topics": [topic]}))
    await asyncio.sleep(0.05)
    yield log
    await log.close()


def domain(sandbox: EmbeddedSandbox) -> str:
    return sandbox.customer_id


@pytest.fixture(params=["udp", "tcp"])
async def phone(request: pytest.FixtureRequest, sip_sandbox: EmbeddedSandbox) -> AsyncIterator[RawPhone]:
    kind: str = request.param
    ua = await RawPhone(
        kind,
        ("127.0.0.1", sip_sandbox.sip_port),
        "quickstart-phone",
        domain(sip_sandbox),
        SEED_PASSWORDS["quickstart-phone"],
    ).open()
    yield ua
    ua.close()


async def call_status(rest: httpx.AsyncClient, call_id: str, want: str, timeout: float = 10.0) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        call: dict[str, Any] = (await rest.get(f"/calls/{call_id}")).json()
        if call.get("status") == want:
            return call
        assert loop.time() < deadline, f"call stayed {call.get('status')!r}, wanted {want!r}"
        await asyncio.sleep(0.05)


async def place_call(rest: httpx.AsyncClient, **kwargs: Any) -> str:
    response = await rest.post("/calls", json=call_body(**kwargs))
    assert response.status_code == 200, response.text
    leg_id: str = response.json()["groupcalls"][0]["call_ids"][0]
    return leg_id


async def ring_and_answer(phone: RawPhone, rest: httpx.AsyncClient, call_id: str) -> tuple[Msg, str]:
    invite = await phone.expect("INVITE")
    tag = "phone" + phone.kind
    phone.reply(invite, 100, "Trying")
    phone.reply(invite, 180, "Ringing", tag=tag)
    await call_status(rest, call_id, "ringing")
    phone.reply(invite, 200, "OK", tag=tag, sdp=phone.sdp())
    ack = await phone.expect("ACK")
    assert ack.h("CSeq").endswith("ACK")
    await call_status(rest, call_id, "progressing")
    return invite, tag


# --- registrar --------------------------------------------------------------------------------------


async def test_register_challenge_then_ok_and_unregister(sip_sandbox: EmbeddedSandbox, phone: RawPhone) -> None:
    phone.send(phone.register_text(120))
    challenge = await phone.expect_final()
    assert challenge.status == 401
    www = challenge.h("WWW-Authenticate")
    assert f'realm="{domain(sip_sandbox)}"' in www
    assert 'qop="auth"' in www
    assert "algorithm=MD5" in www
    phone.send(phone.register_text(120, phone.answer_challenge(www, phone.password)))
    ok = await phone.expect_final()
    assert ok.status == 200
    assert re.search(r"expires=1[12][0-9]", ok.h("Contact"))
    registrations = sip_sandbox.stats()["sip"]["registrations"]
    assert [(r["extension"], r["transport"]) for r in registrations] == [("quickstart-phone", phone.kind)]

    gone = await phone.register(expires=0)
    assert gone.status == 200
    assert sip_sandbox.stats()["sip"]["registrations"] == []


async def test_wrong_password_is_challenged_again_then_forbidden(phone: RawPhone) -> None:
    phone.send(phone.register_text(60))
    first = await phone.expect_final()
    phone.send(phone.register_text(60, phone.answer_challenge(first.h("WWW-Authenticate"), "wrong")))
    second = await phone.expect_final()
    assert second.status == 401
    phone.send(phone.register_text(60, phone.answer_challenge(second.h("WWW-Authenticate"), "wrong")))
    third = await phone.expect_final()
    assert third.status == 403


async def test_unknown_extension_or_domain_is_not_found(sip_sandbox: EmbeddedSandbox, phone: RawPhone) -> None:
    phone.send(phone.register_text(60, user="nobody"))
    assert (await phone.expect_final()).status == 404
    phone.send(phone.register_text(60, domain="elsewhere.example"))
    assert (await phone.expect_final()).status == 404


async def test_options_outside_a_dialog(phone: RawPhone) -> None:
    phone.send(
        "\n".join(
            [
                f"OPTIONS sip:{phone.domain} SIP/2.0",
                f"Via: {phone.via}",
                f"From: <sip:probe@{phone.domain}>;tag=1",
                f"To: <sip:{phone.domain}>",
                "Call-ID: options-1",
                "CSeq: 1 OPTIONS",
            ]
        )
    )
    answer = await phone.expect_final()
    assert answer.status == 200
    assert "INVITE" in answer.h("Allow")


# --- calls ------------------------------------------------------------------------------------------


async def test_answered_call_with_audio_both_ways_reinvite_and_phone_bye(
    sip_sandbox: EmbeddedSandbox, phone: RawPhone, rest: httpx.AsyncClient, events: EventLog
) -> None:
    assert (await phone.register()).status == 200
    call_id = await place_call(rest, greeting="Hello there.")
    invite = await phone.expect("INVITE")
    sdp = invite.body.decode()
    assert "m=audio " in sdp
    assert re.search(r"m=audio \d+ RTP/AVP 0 8", sdp)
    assert "c=IN IP4 127.0.0.1" in sdp
    tag = "phone" + phone.kind
    phone.reply(invite, 180, "Ringing", tag=tag)
    await call_status(rest, call_id, "ringing")
    phone.reply(invite, 200, "OK", tag=tag, sdp=phone.sdp(payload_type=8 if phone.kind == "tcp" else 0))
    await phone.expect("ACK")
    call = await call_status(rest, call_id, "progressing")
    assert call["destination"]["target"].startswith("sip:quickstart-phone@127.0.0.1:")
    assert phone.rtp is not None
    phone.rtp.remote = ("127.0.0.1", int(re.search(r"m=audio (\d+)", sdp).group(1)))  # type: ignore[union-attr]

    # The greeting (text -> audio) reaches the phone: packets every 20 ms, some with clear energy.
    await events.wait_for(
        lambda p: p.get("direction") == "out" and "message" in p and "Hello" in p["message"], timeout=10
    )
    assert phone.rtp.rms_over(1000) >= 10
    expected_type = 8 if phone.kind == "tcp" else 0
    assert {pt for _, pt, _ in phone.rtp.packets} == {expected_type}

    # The phone talks: the sandbox reports a speech segment (no invented words) as an `in` transcript.
    await phone.rtp.play(phone.rtp.send_tone(1.0))
    found = await events.wait_for(
        lambda p: p.get("direction") == "in" and str(p.get("message", "")).startswith("[speech "), timeout=10
    )
    assert re.fullmatch(r"\[speech (0\.9|1\.0|1\.1) s\]", found[-1]["message"])

    # A re-INVITE (as baresip sends after answering) and an in-dialog OPTIONS are answered.
    phone.in_dialog(invite, "INVITE", 1, tag, body=phone.sdp())
    ok = await phone.expect(200)
    assert ok.h("CSeq") == "1 INVITE"
    assert "m=audio" in ok.body.decode()
    phone.in_dialog(invite, "ACK", 1, tag)
    phone.in_dialog(invite, "OPTIONS", 2, tag)
    assert (await phone.expect(200)).h("CSeq") == "2 OPTIONS"

    stats = sip_sandbox.stats()["sip"]["calls"][0]
    assert stats["rtp"]["packets_received"] >= 40
    assert stats["rtp"]["packets_lost"] == 0
    assert stats["in_speech_segments"] == 1

    phone.in_dialog(invite, "BYE", 3, tag)
    assert (await phone.expect(200)).h("CSeq") == "3 BYE"
    hung = await call_status(rest, call_id, "hangup")
    assert (hung["hangup_by"], hung["hangup_reason"]) == ("remote", "normal")


@pytest.mark.parametrize("by", ["rest", "control"])
async def test_hangup_from_the_sandbox_sends_bye(
    by: str, sip_sandbox: EmbeddedSandbox, phone: RawPhone, rest: httpx.AsyncClient
) -> None:
    assert (await phone.register()).status == 200
    call_id = await place_call(rest)
    await ring_and_answer(phone, rest, call_id)
    async with httpx.AsyncClient(base_url=sip_sandbox.control_url, timeout=10) as control:
        # A real phone decides and speaks for itself: the control API's phone actions are refused.
        assert (await control.post(f"/calls/{call_id}/answer")).status_code == 409
        assert (await control.post(f"/calls/{call_id}/speak", json={"text": "hi"})).status_code == 409
        state = (await control.get("/sip")).json()
        assert state["registrations"][0]["extension"] == "quickstart-phone"
        assert state["calls"][0]["call_id"] == call_id
        assert state["calls"][0]["state"] == "confirmed"
        if by == "rest":
            assert (await rest.post(f"/calls/{call_id}/hangup")).status_code == 200
        else:
            assert (await control.post(f"/calls/{call_id}/hangup")).status_code == 200
    bye = await phone.expect("BYE")
    phone.reply(bye, 200, "OK")
    hung = await call_status(rest, call_id, "hangup")
    expected = ("local", "normal") if by == "rest" else ("remote", "normal")
    assert (hung["hangup_by"], hung["hangup_reason"]) == expected


async def test_control_sip_state_is_404_when_off(start_sandbox: SandboxFactory) -> None:
    sandbox = await start_sandbox()
    async with httpx.AsyncClient(base_url=sandbox.control_url, timeout=10) as control:
        assert (await control.get("/sip")).status_code == 404


@pytest.mark.parametrize("status", [486, 603])
async def test_declined(status: int, phone: RawPhone, rest: httpx.AsyncClient) -> None:
    assert (await phone.register()).status == 200
    call_id = await place_call(rest)
    invite = await phone.expect("INVITE")
    phone.reply(invite, 180, "Ringing", tag="t1")
    await call_status(rest, call_id, "ringing")
    phone.reply(invite, status, "Declined", tag="t1")
    ack = await phone.expect("ACK")
    assert ack.h("CSeq").split()[1] == "ACK"
    hung = await call_status(rest, call_id, "hangup")
    assert (hung["hangup_by"], hung["hangup_reason"]) == ("remote", "busy")


async def test_hangup_while_ringing_cancels(phone: RawPhone, rest: httpx.AsyncClient) -> None:
    assert (await phone.register()).status == 200
    call_id = await place_call(rest)
    invite = await phone.expect("INVITE")
    phone.reply(invite, 180, "Ringing", tag="t2")
    await call_status(rest, call_id, "ringing")
    assert (await rest.post(f"/calls/{call_id}/hangup")).status_code == 200
    cancel = await phone.expect("CANCEL")
    assert cancel.h("CSeq").split()[0] == invite.h("CSeq").split()[0]
    phone.reply(cancel, 200, "OK")
    phone.reply(invite, 487, "Request Terminated", tag="t2")
    await phone.expect("ACK")
    hung = await call_status(rest, call_id, "hangup")
    assert (hung["hangup_by"], hung["hangup_reason"]) == ("local", "cancel")


async def test_no_answer_times_out_and_cancels(start_sandbox: SandboxFactory) -> None:
    sandbox = await start_sandbox(**{**SIP, "dial_timeout": 1.5})
    ua = await RawPhone(
        "tcp", ("127.0.0.1", sandbox.sip_port), "quickstart-phone", domain(sandbox), SEED_PASSWORDS["quickstart-phone"]
    ).open()
    try:
        assert (await ua.register()).status == 200
        token = await login(sandbox)
        async with httpx.AsyncClient(base_url=sandbox.api_url, headers={"Authorization": f"Bearer {token}"}) as rest:
            call_id = await place_call(rest)
            invite = await ua.expect("INVITE")
            ua.reply(invite, 180, "Ringing", tag="t3")
            cancel = await ua.expect("CANCEL", timeout=5)
            ua.reply(cancel, 200, "OK")
            ua.reply(invite, 487, "Request Terminated", tag="t3")
            hung = await call_status(rest, call_id, "hangup")
            assert (hung["hangup_by"], hung["hangup_reason"]) == ("remote", "dialout")
    finally:
        ua.close()


async def test_unregistered_extension_keeps_the_simulated_phone(
    sip_sandbox: EmbeddedSandbox, rest: httpx.AsyncClient
) -> None:
    call_id = await place_call(rest, greeting="Hi.")
    call = await call_status(rest, call_id, "progressing")
    assert "192.0.2.10" in call["destination"]["target"]
    assert sip_sandbox.stats()["sip"]["calls"] == []


async def test_tls_register_call_audio_and_hangup(start_sandbox: SandboxFactory) -> None:
    data = Path(__file__).with_name("data")
    cert, key = str(data / "sip-test-cert.pem"), str(data / "sip-test-key.pem")
    # Plain RTP over TLS (sip_srtp never): this phone speaks no SRTP. SRTP on TLS, the default, is tested in
    # test_sip_srtp.py and, with real phones, tests/phone/test_phone_srtp.py.
    sandbox = await start_sandbox(**SIP, sip_tls_cert=cert, sip_tls_key=key, sip_srtp="never")
    assert sandbox.sip_addresses["tls"] == f"sip:127.0.0.1:{sandbox.sip_tls_port};transport=tls"
    context = ssl.create_default_context(cafile=cert)  # verifies the sandbox's certificate for 127.0.0.1
    ua = await RawPhone(
        "tls",
        ("127.0.0.1", sandbox.sip_tls_port),
        "quickstart-phone",
        domain(sandbox),
        SEED_PASSWORDS["quickstart-phone"],
        tls=context,
    ).open()
    try:
        assert (await ua.register()).status == 200
        assert sandbox.stats()["sip"]["registrations"][0]["transport"] == "tls"
        token = await login(sandbox)
        async with httpx.AsyncClient(base_url=sandbox.api_url, headers={"Authorization": f"Bearer {token}"}) as rest:
            call_id = await place_call(rest)
            invite, _ = await ring_and_answer(ua, rest, call_id)
            assert invite.h("Via").startswith("SIP/2.0/TLS ")
            assert ua.rtp is not None
            await asyncio.sleep(1.5)
            assert ua.rtp.rms_over(1000) >= 10
            assert (await rest.post(f"/calls/{call_id}/hangup")).status_code == 200
            bye = await ua.expect("BYE")
            ua.reply(bye, 200, "OK")
            hung = await call_status(rest, call_id, "hangup")
            assert hung["hangup_reason"] == "normal"
    finally:
        ua.close()


async def test_a_registered_sip_phone_makes_an_unregistered_seed_dialable(start_sandbox: SandboxFactory) -> None:
    from tui.sandbox.settings import ExtensionSeed

    seed = ExtensionSeed(name="quickstart-phone", extension="quickstart-phone", password="pw", registered=False)
    sandbox = await start_sandbox(**SIP, extensions=[seed])
    token = await login(sandbox)
    async with httpx.AsyncClient(base_url=sandbox.api_url, headers={"Authorization": f"Bearer {token}"}) as rest:
        assert (await rest.post("/calls", json=call_body())).status_code == 500  # no contact at all
        ua = await RawPhone("tcp", ("127.0.0.1", sandbox.sip_port), "quickstart-phone", domain(sandbox), "pw").open()
        try:
            assert (await ua.register()).status == 200
            call_id = await place_call(rest)
            await ring_and_answer(ua, rest, call_id)
        finally:
            ua.close()


async def test_speech_to_text_hook_gets_the_segment_audio(
    sip_sandbox: EmbeddedSandbox, rest: httpx.AsyncClient, events: EventLog
) -> None:
    heard: list[int] = []

    def recogniser(samples: array.array[int]) -> str:
        heard.append(len(samples))
        loud = sum(1 for s in samples if abs(s) > 3000)
        return f"{len(samples)} samples, {loud} loud"

    assert sip_sandbox.core is not None
    assert sip_sandbox.core.sip is not None
    sip_sandbox.core.sip.speech_to_text = recogniser
    ua = await RawPhone(
        "udp", ("127.0.0.1", sip_sandbox.sip_port), "quickstart-phone", domain(sip_sandbox), "quickstart-secret"
    ).open()
    try:
        assert (await ua.register()).status == 200
        call_id = await place_call(rest, greeting="Hi.")
        invite, _ = await ring_and_answer(ua, rest, call_id)
        assert ua.rtp is not None
        port = re.search(r"m=audio (\d+)", invite.body.decode())
        assert port is not None
        ua.rtp.remote = ("127.0.0.1", int(port.group(1)))
        await ua.rtp.play(ua.rtp.send_tone(0.8))
        found = await events.wait_for(lambda p: p.get("direction") == "in" and "samples" in p.get("message", ""))
        assert len(heard) == 1
        assert 0.7 * 8000 <= heard[0] <= 0.9 * 8000
        count, loud = re.findall(r"\d+", found[0]["message"])
        assert int(count) == heard[0]
        assert int(loud) > heard[0] // 3
    finally:
        ua.close()


async def test_hold_by_update_and_resume_by_reinvite(phone: RawPhone, rest: httpx.AsyncClient) -> None:
    assert (await phone.register()).status == 200
    call_id = await place_call(rest, greeting="Hi.")
    invite, tag = await ring_and_answer(phone, rest, call_id)
    assert phone.rtp is not None
    await asyncio.sleep(0.3)
    assert len(phone.rtp.packets) >= 5

    hold = phone.sdp().replace(b"a=sendrecv", b"a=sendonly")
    phone.in_dialog(invite, "UPDATE", 1, tag, body=hold)
    held = await phone.expect(200)
    assert held.h("CSeq") == "1 UPDATE"
    assert "a=recvonly" in held.body.decode()
    await asyncio.sleep(0.1)
    count = len(phone.rtp.packets)
    await asyncio.sleep(0.4)
    assert len(phone.rtp.packets) - count <= 1  # the sandbox stopped sending

    phone.in_dialog(invite, "INVITE", 2, tag, body=phone.sdp())
    resumed = await phone.expect(200)
    assert "a=sendrecv" in resumed.body.decode()
    phone.in_dialog(invite, "ACK", 2, tag)
    count = len(phone.rtp.packets)
    await asyncio.sleep(0.4)
    assert len(phone.rtp.packets) - count >= 10
    assert (await rest.post(f"/calls/{call_id}/hangup")).status_code == 200
    phone.reply(await phone.expect("BYE"), 200, "OK")


async def test_a_binding_expires(sip_sandbox: EmbeddedSandbox, phone: RawPhone) -> None:
    ok = await phone.register(expires=1)
    assert ok.status == 200
    assert re.search(r"expires=1\b", ok.h("Contact"))
    assert len(sip_sandbox.stats()["sip"]["registrations"]) == 1
    await asyncio.sleep(1.2)
    assert sip_sandbox.stats()["sip"]["registrations"] == []
