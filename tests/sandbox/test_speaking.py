"""The Speaking API: creation rules, say/flush/stop/delete, the 5000-byte limit, and transcription."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets

from tests.sandbox.conftest import (
    EventLog,
    SandboxFactory,
    instant,
    is_transcript,
    login,
    place_seed_call,
    wait_call_status,
)
from tui.sandbox import EmbeddedSandbox

LONG = (
    "This is a long announcement that takes a while to speak so that a flush in the middle of it "
    "cuts it off before the end of the sentence has been reached by the speaker"
)


async def answered_call(api: httpx.AsyncClient) -> str:
    _, call_id = await place_seed_call(api)
    await wait_call_status(api, call_id, "progressing")
    return call_id


async def speaking_on(api: httpx.AsyncClient, call_id: str, **extra: Any) -> dict[str, Any]:
    response = await api.post("/speakings", json={"reference_type": "call", "reference_id": call_id, **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_text_limit_is_5000_bytes(api: httpx.AsyncClient) -> None:
    call_id = await answered_call(api)
    sid = (await speaking_on(api, call_id, direction="out"))["id"]

    async def say(text: Any) -> httpx.Response:
        return await api.post(f"/speakings/{sid}/say", json={"text": text})

    korean_ok = "가" * 1666  # 4998 bytes
    korean_over = "가" * 1667  # 5001 bytes, far fewer than 5000 characters
    assert (await say(korean_ok)).status_code == 200
    over = await say(korean_over)
    assert over.status_code == 400
    assert over.json()["error"]["reason"] == "INVALID_ARGUMENT"
    assert over.json()["error"]["message"] == "The text field exceeds the 5000 character limit."
    assert (await say("a" * 5000)).status_code == 200
    assert (await say("a" * 5001)).status_code == 400
    empty = await say("")
    assert empty.status_code == 400
    assert empty.json()["error"]["message"] == "The text field must not be empty."
    missing = await api.post(f"/speakings/{sid}/say", json={})
    assert missing.json()["error"]["message"] == "The text field must not be empty."
    wrong_type = await say(5)
    assert wrong_type.json()["error"]["reason"] == "INVALID_JSON_BODY"
    no_body = await api.post(f"/speakings/{sid}/say")
    assert no_body.json()["error"]["reason"] == "INVALID_JSON_BODY"
    # The id is checked before the body.
    bad_id = await api.post("/speakings/nope/say", content=b"{")
    assert bad_id.json()["error"]["reason"] == "INVALID_ID"
    unknown = await api.post("/speakings/3f1e0a6e-0000-4000-8000-000000000001/say", json={"text": "x"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["reason"] == "RESOURCE_NOT_FOUND"


async def test_one_live_session_per_call(api: httpx.AsyncClient) -> None:
    call_id = await answered_call(api)
    first = await speaking_on(api, call_id)
    duplicate = await api.post("/speakings", json={"reference_type": "call", "reference_id": call_id})
    assert duplicate.status_code == 500
    assert duplicate.json()["error"]["reason"] == "INTERNAL"
    stopped = await api.post(f"/speakings/{first['id']}/stop")
    assert stopped.json()["status"] == "stopped"
    assert instant(stopped.json()["tm_update"]) >= instant(first["tm_update"])
    # Stop is idempotent and final.
    again = await api.post(f"/speakings/{first['id']}/stop")
    assert again.json() == stopped.json()
    assert (await api.post(f"/speakings/{first['id']}/flush")).status_code == 404
    second = await speaking_on(api, call_id)
    assert second["id"] != first["id"]
    listed = (await api.get("/speakings")).json()["result"]
    assert [s["id"] for s in listed] == [second["id"], first["id"]]
    deleted = (await api.delete(f"/speakings/{first['id']}")).json()
    assert "tm_delete" in deleted
    assert (await api.get(f"/speakings/{first['id']}")).json()["tm_delete"] == deleted["tm_delete"]
    assert [s["id"] for s in (await api.get("/speakings")).json()["result"]] == [second["id"]]
    deleted_live = (await api.delete(f"/speakings/{second['id']}")).json()
    assert deleted_live["status"] == "stopped"


async def test_speaking_on_a_ringing_call_is_allowed(start_sandbox: SandboxFactory) -> None:
    sandbox = await start_sandbox(answer_mode="manual")
    token = await login(sandbox)
    async with httpx.AsyncClient(base_url=sandbox.api_url, params={"token": token}) as api:
        _, call_id = await place_seed_call(api)
        await wait_call_status(api, call_id, "ringing")
        await speaking_on(api, call_id)


async def test_say_queue_is_fifo_and_transcribed(
    api: httpx.AsyncClient, sandbox: EmbeddedSandbox, open_events: Any
) -> None:
    log: EventLog = await open_events(f"customer_id:{sandbox.customer_id}:transcript:transcript_")
    call_id = await answered_call(api)
    await log.wait_for(lambda f: f["direction"] == "in")
    sp = await speaking_on(api, call_id, direction="out")
    said = await api.post(f"/speakings/{sp['id']}/say", json={"text": "First line."})
    # The response is the record as it was before the text was queued.
    assert said.json()["status"] == "active"
    assert said.json()["tm_update"] == sp["tm_update"]
    await api.post(f"/speakings/{sp['id']}/say", json={"text": "Second line."})
    await api.post(f"/speakings/{sp['id']}/say", json={"text": "Third line."})
    await log.wait_for(lambda f: f["message"] == "Third line.")
    said_lines = [f["message"] for f in log.payloads if f["message"].endswith("line.")]
    assert said_lines == ["First line.", "Second line.", "Third line."]
    assert all(f["direction"] == "out" for f in log.payloads if f["message"].endswith("line."))


async def test_direction_in_is_heard_on_the_in_stream(
    api: httpx.AsyncClient, sandbox: EmbeddedSandbox, open_events: Any
) -> None:
    log: EventLog = await open_events(f"customer_id:{sandbox.customer_id}:transcript:transcript_")
    call_id = await answered_call(api)
    sp = await speaking_on(api, call_id, direction="in")
    await api.post(f"/speakings/{sp['id']}/say", json={"text": "Whispered the other way."})
    found = await log.wait_for(lambda f: f["message"] == "Whispered the other way.")
    assert found[0]["direction"] == "in"


async def test_flush_cuts_the_current_text_and_drops_the_queue(
    api: httpx.AsyncClient, sandbox: EmbeddedSandbox, open_events: Any
) -> None:
    log: EventLog = await open_events(f"customer_id:{sandbox.customer_id}:transcript:transcript_")
    call_id = await answered_call(api)
    await log.wait_for(lambda f: f["direction"] == "in")
    sp = await speaking_on(api, call_id, direction="out")
    await api.post(f"/speakings/{sp['id']}/say", json={"text": LONG})
    await api.post(f"/speakings/{sp['id']}/say", json={"text": "Never spoken."})
    await asyncio.sleep(0.12)
    flushed = await api.post(f"/speakings/{sp['id']}/flush")
    assert flushed.json()["status"] == "active"
    partial = await log.wait_for(lambda f: LONG.startswith(f["message"]) and f["direction"] == "out")
    # The words spoken before the flush are still recognised; the rest and the queue are gone.
    assert partial[0]["message"] != LONG
    await api.post(f"/speakings/{sp['id']}/say", json={"text": "After the flush."})
    await log.wait_for(lambda f: f["message"] == "After the flush.")
    assert not log.matching(lambda f: f["message"] == "Never spoken.")


@pytest.mark.parametrize("transcribe_speaking", [True, False])
async def test_transcribe_speaking_knob(start_sandbox: SandboxFactory, transcribe_speaking: bool) -> None:
    sandbox = await start_sandbox(transcribe_speaking=transcribe_speaking, caller_script=["Done talking."])
    token = await login(sandbox)
    async with (
        httpx.AsyncClient(base_url=sandbox.api_url, params={"token": token}) as api,
        httpx.AsyncClient(base_url=sandbox.control_url) as control,
    ):
        log = EventLog(await websockets.connect(f"{sandbox.ws_url}?token={token}"))
        topic = f"customer_id:{sandbox.customer_id}:transcript:transcript_"
        await log.ws.send(json.dumps({"type": "subscribe", "topics": [topic]}))
        await asyncio.sleep(0.05)
        call_id = await answered_call(api)
        await log.wait_for(lambda f: f["message"] == "Done talking.")
        sp = await speaking_on(api, call_id, direction="out")
        await api.post(f"/speakings/{sp['id']}/say", json={"text": "Can you hear this?"})
        await asyncio.sleep(0.4)
        # A marker after the said text: once it is in, the said text would have been too.
        await control.post(f"/calls/{call_id}/speak", json={"text": "Marker."})
        await log.wait_for(lambda f: f["message"] == "Marker.")
        heard = log.matching(lambda f: is_transcript(f) and f["message"] == "Can you hear this?")
        assert bool(heard) is transcribe_speaking
        # The talk greeting is transcribed either way.
        assert log.matching(lambda f: f["direction"] == "out" and f["message"].startswith("Hello."))
        await log.close()
