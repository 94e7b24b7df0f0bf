"""Transcribe sessions and transcripts."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx

from tests.sandbox.conftest import EventLog, is_speech, is_transcribe, place_seed_call, wait_call_status
from tui.sandbox import EmbeddedSandbox

OFFSET = re.compile(r"^0001-01-01T00:00:\d\d(\.\d*[1-9])?Z$")


async def test_transcribe_lifecycle(
    api: httpx.AsyncClient, control: httpx.AsyncClient, sandbox: EmbeddedSandbox, open_events: Any
) -> None:
    log: EventLog = await open_events(f"customer_id:{sandbox.customer_id}:transcribe:transcribe_")
    _, call_id = await place_seed_call(api)
    await wait_call_status(api, call_id, "progressing")
    flow = (await log.wait_for(lambda f: is_transcribe(f)))[0]
    duplicate = await api.post(
        "/transcribes", json={"reference_type": "call", "reference_id": call_id, "language": "en-US"}
    )
    assert duplicate.status_code == 409
    error = duplicate.json()["error"]
    assert (error["status"], error["reason"]) == ("ALREADY_EXISTS", "TRANSCRIBE_ALREADY_PROGRESSING")

    korean = await api.post(
        "/transcribes",
        json={"reference_type": "call", "reference_id": call_id, "language": "ko-kr", "direction": "in"},
    )
    assert korean.status_code == 200
    ko = korean.json()
    assert (ko["language"], ko["direction"], ko["status"]) == ("ko-KR", "in", "progressing")
    assert ko["activeflow_id"] == "00000000-0000-0000-0000-000000000000"
    assert flow["activeflow_id"] != "00000000-0000-0000-0000-000000000000"
    defaulted = await api.post(
        "/transcribes",
        json={"reference_type": "call", "reference_id": call_id, "language": "", "direction": "sideways"},
    )
    # Empty language would be en-US, which is taken.
    assert defaulted.status_code == 409

    await control.post(f"/calls/{call_id}/speak", json={"text": "Two transcribes hear this."})
    transcripts = log  # speech events are on the transcribe prefix
    await transcripts.wait_for(lambda f: is_speech(f) and f["transcribe_id"] == ko["id"])
    assert all(f["direction"] == "in" for f in log.payloads if is_speech(f) and f["transcribe_id"] == ko["id"])

    stopped = await api.post(f"/transcribes/{ko['id']}/stop")
    assert stopped.json()["status"] == "done"
    assert stopped.json()["tm_update"] is not None
    assert (await api.post(f"/transcribes/{ko['id']}/stop")).json() == stopped.json()
    await log.wait_for(lambda f: is_transcribe(f) and f["id"] == ko["id"] and f["status"] == "done")

    deleted = await api.delete(f"/transcribes/{ko['id']}")
    assert deleted.json()["tm_delete"] is not None
    assert (await api.get(f"/transcribes/{ko['id']}")).status_code == 200
    listed = (await api.get("/transcribes", params={"reference_type": "call", "reference_id": call_id})).json()
    assert [t["id"] for t in listed["result"]] == [flow["id"]]
    assert (await api.get("/transcripts", params={"transcribe_id": ko["id"]})).json()["result"] == []

    await api.post(f"/calls/{call_id}/hangup")
    await wait_call_status(api, call_id, "hangup")
    done = await log.wait_for(lambda f: is_transcribe(f) and f["id"] == flow["id"] and f["status"] == "done")
    assert done[0]["tm_update"] is not None
    dead = await api.post("/transcribes", json={"reference_type": "call", "reference_id": call_id, "language": "fr-FR"})
    assert dead.status_code == 500


async def test_transcript_offsets_grow_per_stream(
    api: httpx.AsyncClient, sandbox: EmbeddedSandbox, open_events: Any
) -> None:
    log: EventLog = await open_events(f"customer_id:{sandbox.customer_id}:transcript:transcript_")
    await place_seed_call(api)
    await log.wait_for(lambda f: f["direction"] == "in")
    await asyncio.sleep(0.05)
    outs = [f for f in log.payloads if f["direction"] == "out"]
    assert all(OFFSET.match(f["tm_transcript"]) for f in log.payloads)
    offsets = [f["tm_transcript"] for f in outs]
    assert offsets == sorted(offsets)
    assert len(set(offsets)) == len(offsets)
    listed = (await api.get("/transcripts", params={"transcribe_id": outs[0]["transcribe_id"]})).json()["result"]
    assert [t["id"] for t in listed] == [f["id"] for f in reversed(log.payloads)]


async def test_transcribe_start_option_language_is_normalised(api: httpx.AsyncClient, sandbox: EmbeddedSandbox) -> None:
    body = {
        "source": {"type": "tel", "target": "+15551234567"},
        "destinations": [{"type": "extension", "target_name": "quickstart-phone"}],
        "actions": [
            {"type": "transcribe_start", "option": {"language": "not a language!", "direction": "out"}},
            {"type": "transcribe_start", "option": {"language": "en-us"}},
            {"type": "sleep", "option": {"duration": 1000}},
        ],
    }
    created = (await api.post("/calls", json=body)).json()
    call_id = created["groupcalls"][0]["call_ids"][0]
    await wait_call_status(api, call_id, "progressing")
    for _ in range(100):
        found = (await api.get("/transcribes", params={"reference_type": "call", "reference_id": call_id})).json()
        if found["result"]:
            break
        await asyncio.sleep(0.01)
    # The second transcribe_start (en-US again) fails and the flow carries on.
    assert [(t["language"], t["direction"]) for t in found["result"]] == [("en-US", "out")]
