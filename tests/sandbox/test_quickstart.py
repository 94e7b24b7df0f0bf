"""The quickstart page's curl sequence against the sandbox, with the answers the real server gives.

The page is older than the server code; where they differ (NOTES.md §A) the test asserts the code's
behaviour and names the note.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.sandbox.conftest import (
    GREETING,
    EventLog,
    is_speech,
    is_transcript,
    seed_call_body,
    wait_call_status,
)
from tui.sandbox import EmbeddedSandbox

SAID = (
    "Hello, how are you today? This is VoIPBIN speaking to you in real time using the ElevenLabs text-to-speech engine."
)


async def test_seed_page_sequence(sandbox: EmbeddedSandbox, open_events: Any) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        # Prerequisite: a token from POST /auth/login (outside /v1.0, §A23).
        login = await http.post(
            f"{sandbox.root_url}/auth/login",
            json={"username": "admin@localhost", "password": "admin@localhost"},
        )
        assert login.status_code == 200
        token = login.json()["token"]
        assert token.startswith("eyJ")
        assert login.json()["username"] == "admin@localhost"
        q = {"token": token}
        base = sandbox.api_url

        customer = (await http.get(f"{base}/customer", params=q)).json()
        cid = customer["id"]
        assert cid == sandbox.customer_id
        numbers = (await http.get(f"{base}/numbers", params=q)).json()["result"]
        assert {n["number"] for n in numbers} == {"+15551234567", "+15557654321"}
        extensions = (await http.get(f"{base}/extensions", params=q)).json()["result"]
        assert any(e["name"] == e["extension"] == "quickstart-phone" for e in extensions)

        # Event subscription first, on exactly-once prefixes (a `…:call:*` wildcard would get nothing, §A3).
        events: EventLog = await open_events(
            f"customer_id:{cid}:call:call_",
            f"customer_id:{cid}:groupcall:groupcall_",
            f"customer_id:{cid}:transcribe:transcribe_",
            f"customer_id:{cid}:transcript:transcript_",
        )

        # Make a call to the extension.
        created = await http.post(f"{base}/calls", params=q, json=seed_call_body())
        assert created.status_code == 200
        body = created.json()
        # §A5: an extension destination is a groupcall; calls[] is empty, the leg id is pre-assigned.
        assert body["calls"] == []
        assert len(body["groupcalls"]) == 1
        groupcall = body["groupcalls"][0]
        assert groupcall["status"] == "progressing"
        assert groupcall["destinations"] == [{"type": "extension", "target_name": "quickstart-phone"}]
        assert groupcall["ring_method"] == "ring_all"
        call_id = groupcall["call_ids"][0]

        # The leg record is created just after the response; it may not exist yet.
        first = await http.get(f"{base}/calls/{call_id}", params=q)
        assert first.status_code in (200, 404)
        if first.status_code == 404:
            assert first.json()["error"]["reason"] == "CALL_NOT_FOUND"

        api = httpx.AsyncClient(base_url=base, params=q, timeout=10)
        async with api:
            leg = await wait_call_status(api, call_id, ("dialing", "ringing", "progressing"))
            assert leg["direction"] == "outgoing"
            assert leg["destination"]["type"] == "sip"
            assert leg["destination"]["target_name"] == "quickstart-phone"
            assert leg["groupcall_id"] == "00000000-0000-0000-0000-000000000000"

            # Linphone rings and answers: dialing -> ringing -> progressing.
            answered = await wait_call_status(api, call_id, "progressing")
            assert "tm_ringing" in answered
            assert "tm_progressing" in answered

            # The greeting appears as `out` transcripts, the caller's line as `in`.
            await events.wait_for(lambda f: is_transcript(f) and f["direction"] == "in")
            outs = events.matching(lambda f: is_transcript(f) and f["direction"] == "out")
            assert outs, "the greeting should have produced out transcripts"
            assert " ".join(t["message"] for t in outs).startswith("Hello.")
            heard_in = events.matching(lambda f: is_transcript(f) and f["direction"] == "in")
            assert heard_in[0]["message"] == "Hi, this is a test of the transcription feature."
            # §A1: bare resources, no event_type/topic/timestamp envelope.
            assert all("event_type" not in f and "data" not in f for f in events.payloads)

            # Create a speaking stream: 201, already active (§A9), no pod_id/voice_id/empty times (§A10).
            speaking = await api.post(
                "/speakings",
                json={
                    "reference_type": "call",
                    "reference_id": call_id,
                    "language": "en-US",
                    "provider": "elevenlabs",
                    "direction": "out",
                },
            )
            assert speaking.status_code == 201
            sp = speaking.json()
            assert sp["status"] == "active"
            assert sp["customer_id"] == cid
            assert sp["reference_id"] == call_id
            assert "pod_id" not in sp
            assert "voice_id" not in sp
            assert "tm_delete" not in sp
            assert "tm_update" in sp
            speaking_id = sp["id"]

            said = await api.post(f"/speakings/{speaking_id}/say", json={"text": SAID})
            assert said.status_code == 200
            assert said.json()["status"] == "active"
            # Transcription is still on, so the TTS output is transcribed as `out` (seed page; knob).
            said_out = await events.wait_for(
                lambda f: is_transcript(f) and f["direction"] == "out" and f["message"].startswith("Hello, how")
            )
            assert said_out[0]["transcribe_id"] == outs[0]["transcribe_id"]

            # Flush keeps the session active (§A15).
            flushed = await api.post(f"/speakings/{speaking_id}/flush")
            assert flushed.status_code == 200
            assert flushed.json()["status"] == "active"
            # Stop ends the whole session (§A15).
            stopped = await api.post(f"/speakings/{speaking_id}/stop")
            assert stopped.status_code == 200
            assert stopped.json()["status"] == "stopped"
            # say on a stopped stream is 404 RESOURCE_NOT_FOUND, not 400 (§A13).
            again = await api.post(f"/speakings/{speaking_id}/say", json={"text": "more"})
            assert again.status_code == 404
            assert again.json()["error"]["reason"] == "RESOURCE_NOT_FOUND"
            deleted = await api.delete(f"/speakings/{speaking_id}")
            assert deleted.status_code == 200
            assert deleted.json()["status"] == "stopped"
            assert "tm_delete" in deleted.json()

            # GET /transcripts has them all, newest first.
            transcribes = (
                await api.get("/transcribes", params={"reference_type": "call", "reference_id": call_id})
            ).json()["result"]
            assert len(transcribes) == 1
            listed = (await api.get("/transcripts", params={"transcribe_id": transcribes[0]["id"]})).json()
            assert {t["id"] for t in listed["result"]} >= {t["id"] for t in outs + heard_in}

            # Hang up; the call goes terminating -> hangup (local, normal); transcribe ends done.
            hung = await api.post(f"/calls/{call_id}/hangup")
            assert hung.status_code == 200
            assert hung.json()["status"] == "terminating"
            final = await wait_call_status(api, call_id, "hangup")
            assert (final["hangup_by"], final["hangup_reason"]) == ("local", "normal")
            await events.wait_for(lambda f: f.get("reference_id") == call_id and f.get("status") == "done")
            assert not events.matching(is_speech) or all(
                f["direction"] in ("in", "out") for f in events.matching(is_speech)
            )


async def test_greeting_text_is_fully_transcribed(
    api: httpx.AsyncClient, sandbox: EmbeddedSandbox, open_events: Any
) -> None:
    cid = sandbox.customer_id
    events = await open_events(f"customer_id:{cid}:transcript:transcript_")
    response = await api.post("/calls", json=seed_call_body())
    call_id = response.json()["groupcalls"][0]["call_ids"][0]
    await wait_call_status(api, call_id, "progressing")
    await events.wait_for(lambda f: f["direction"] == "in")
    await asyncio.sleep(0.05)
    outs = [f["message"] for f in events.payloads if f["direction"] == "out"]
    # Split at sentence ends, nothing lost.
    assert " ".join(outs) == GREETING
    assert len(outs) == 4
