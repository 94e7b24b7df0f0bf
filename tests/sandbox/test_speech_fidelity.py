"""The 5-minute STT stream, transcript offsets and the small encodings of NOTES §F1, §F2, §F5-§F9."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import (
    EventLog,
    SandboxFactory,
    instant,
    place_seed_call,
    seed_call_body,
    wait_call_status,
)
from tui.sandbox import EmbeddedSandbox


@pytest.fixture
async def sandbox(start_sandbox: SandboxFactory, request: pytest.FixtureRequest) -> EmbeddedSandbox:
    overrides: dict[str, Any] = getattr(request, "param", {})
    return await start_sandbox(**overrides)


def topics(sandbox: EmbeddedSandbox) -> list[str]:
    prefix = f"customer_id:{sandbox.customer_id}"
    return [f"{prefix}:transcript:transcript_", f"{prefix}:transcribe:transcribe_"]


@pytest.mark.parametrize("sandbox", [{"transcribe_stream_limit": 60.0, "caller_script": []}], indirect=True)
async def test_default_provider_stops_transcribing_at_the_limit_aws_does_not(
    api: httpx.AsyncClient, control: httpx.AsyncClient, open_events: Any, sandbox: EmbeddedSandbox
) -> None:
    log: EventLog = await open_events(*topics(sandbox))
    _, call_id = await place_seed_call(api)
    await wait_call_status(api, call_id, "progressing")
    aws = await api.post(
        "/transcribes",
        json={
            "reference_type": "call",
            "reference_id": call_id,
            "language": "en-GB",
            "direction": "in",
            "provider": "aws",
        },
    )
    assert aws.status_code == 200
    assert aws.json()["provider"] == "aws"
    default = (await api.get("/transcribes", params={"reference_type": "call", "reference_id": call_id})).json()
    default_id = next(t["id"] for t in default["result"] if t["language"] == "en-US")
    await log.wait_for(lambda f: f.get("transcribe_id") == default_id and "message" in f and "tm_transcript" in f)
    await asyncio.sleep(1.7)  # past 60 simulated seconds at speed 40
    await control.post(f"/calls/{call_id}/speak", json={"text": "Are you still listening to me?"})
    late = await log.wait_for(lambda f: f.get("transcribe_id") == aws.json()["id"] and "tm_transcript" in f)
    assert late[0]["message"] == "Are you still listening to me?"
    await asyncio.sleep(0.3)
    from_default = [f for f in log.payloads if f.get("transcribe_id") == default_id and "tm_transcript" in f]
    assert all("listening" not in f["message"] for f in from_default)
    # No event says so: the default transcribe is still progressing.
    assert (await api.get(f"/transcribes/{default_id}")).json()["status"] == "progressing"
    assert not [f for f in log.payloads if f.get("id") == default_id and f.get("status") == "done"]


@pytest.mark.parametrize("sandbox", [{"transcript_offset_field": "both"}], indirect=True)
async def test_transcripts_can_carry_offset_ms_beside_tm_transcript(
    api: httpx.AsyncClient, open_events: Any, sandbox: EmbeddedSandbox
) -> None:
    log: EventLog = await open_events(*topics(sandbox))
    await place_seed_call(api)
    found = await log.wait_for(lambda f: "offset_ms" in f)
    frame = found[0]
    seconds = frame["tm_transcript"].split("T")[1].rstrip("Z").split(":")
    from_time = round((int(seconds[0]) * 3600 + int(seconds[1]) * 60 + float(seconds[2])) * 1000)
    assert abs(frame["offset_ms"] - from_time) <= 1
    listed = (await api.get("/transcripts", params={"transcribe_id": frame["transcribe_id"]})).json()["result"]
    assert all("offset_ms" in t and "tm_transcript" in t for t in listed)


async def test_speech_event_times_carry_nanoseconds(
    api: httpx.AsyncClient, open_events: Any, sandbox: EmbeddedSandbox
) -> None:
    log: EventLog = await open_events(f"customer_id:{sandbox.customer_id}:transcribe:transcribe_speech_")
    await place_seed_call(api)
    frames = await log.wait_for(lambda f: "streaming_id" in f, count=8)
    digits = [len(re.search(r"\.(\d+)Z$", f["tm_event"]).group(1)) for f in frames if "." in f["tm_event"]]  # type: ignore[union-attr]
    assert max(digits) > 6
    assert max(digits) <= 9
    assert all(f["tm_event"] == f["tm_create"] for f in frames)


@pytest.mark.parametrize("sandbox", [{"speed": 10.0, "caller_script": []}], indirect=True)
async def test_overlapping_audio_is_one_evolving_hypothesis(
    api: httpx.AsyncClient, open_events: Any, sandbox: EmbeddedSandbox
) -> None:
    log: EventLog = await open_events(f"customer_id:{sandbox.customer_id}:transcribe:transcribe_speech_")
    # One long greeting sentence (about 20 simulated seconds) that the say is sure to overlap.
    greeting = " ".join(["welcome"] * 40)
    body = seed_call_body()
    body["actions"][1]["option"]["text"] = greeting
    created = await api.post("/calls", json=body)
    call_id = created.json()["groupcalls"][0]["call_ids"][0]
    await wait_call_status(api, call_id, "progressing")
    await log.wait_for(lambda f: "welcome" in f.get("message", ""))
    speaking = await api.post(
        "/speakings", json={"reference_type": "call", "reference_id": call_id, "direction": "out"}
    )
    assert speaking.status_code == 201
    said = await api.post(
        f"/speakings/{speaking.json()['id']}/say", json={"text": "Overlapping words spoken over the greeting now"}
    )
    assert said.status_code == 200
    await log.wait_for(lambda f: "Overlapping" in f.get("message", ""), timeout=10)
    await log.wait_for(lambda f: f.get("direction") == "out" and "message" not in f, count=2, timeout=10)
    counts: list[int] = []
    utterances: list[list[int]] = []
    for frame in log.payloads:
        if frame.get("direction") != "out":
            continue
        if "message" in frame:
            counts.append(len(frame["message"].split()))
        elif counts:
            utterances.append(counts)
            counts = []
    assert utterances
    mixed = [f["message"] for f in log.payloads if "Overlapping" in f.get("message", "")]
    assert mixed
    assert all("welcome" in m for m in mixed)  # the greeting and the say in one hypothesis
    for words in utterances:
        assert words == sorted(words), words  # never two texts alternating


@pytest.mark.parametrize("sandbox", [{"speaking_start_delay": 20.0}], indirect=True)
async def test_a_speaking_whose_call_went_away_during_setup_is_left_stopped_and_listed(
    api: httpx.AsyncClient, control: httpx.AsyncClient, sandbox: EmbeddedSandbox
) -> None:
    _, call_id = await place_seed_call(api)
    await wait_call_status(api, call_id, "progressing")
    body = {"reference_type": "call", "reference_id": call_id, "direction": "out"}
    create = asyncio.create_task(api.post("/speakings", json=body))
    await asyncio.sleep(0.1)
    await control.post(f"/calls/{call_id}/hangup")
    response = await create
    assert response.status_code == 500
    listed = (await api.get("/speakings")).json()["result"]
    assert [(s["reference_id"], s["status"]) for s in listed] == [(call_id, "stopped")]


async def test_delete_speaking_stamps_and_restamps(api: httpx.AsyncClient, sandbox: EmbeddedSandbox) -> None:
    _, call_id = await place_seed_call(api)
    await wait_call_status(api, call_id, "progressing")
    created = await api.post("/speakings", json={"reference_type": "call", "reference_id": call_id})
    first = (await api.delete(f"/speakings/{created.json()['id']}")).json()
    second = (await api.delete(f"/speakings/{created.json()['id']}")).json()
    assert first["tm_delete"] == first["tm_update"]
    assert second["tm_delete"] == second["tm_update"]
    assert instant(second["tm_delete"]) > instant(first["tm_delete"])
