"""The WebSocket event channel (README §6): topics, prefix matching, duplicates, drops, keepalive."""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import time
from typing import Any

import httpx
import pytest
import websockets

from tests.sandbox.conftest import (
    EventLog,
    RawWebSocket,
    SandboxFactory,
    is_call,
    is_groupcall,
    is_speech,
    is_transcribe,
    is_transcript,
    login,
    place_seed_call,
    wait_call_status,
)
from tui.sandbox import EmbeddedSandbox


def statuses(frames: list[Any], call_id: str) -> list[str]:
    return [f["status"] for f in frames if is_call(f) and f["id"] == call_id]


async def test_seed_sequence_with_real_duplicates(start_sandbox: SandboxFactory) -> None:
    # A slower leg creation gives the per-call subscriber time to subscribe before call_created.
    sandbox = await start_sandbox(leg_create_delay=4.0, caller_delay=0.5)
    token = await login(sandbox)
    cid = sandbox.customer_id
    url = f"{sandbox.ws_url}?token={token}"
    async with (
        httpx.AsyncClient(base_url=sandbox.api_url, headers={"Authorization": f"Bearer {token}"}) as api,
        websockets.connect(url) as ws_broad,
        websockets.connect(url) as ws_once,
        websockets.connect(url) as ws_call,
    ):
        broad, once, per_call = EventLog(ws_broad), EventLog(ws_once), EventLog(ws_call)
        await ws_broad.send(
            json.dumps(
                {
                    "type": "subscribe",
                    "topics": [f"customer_id:{cid}:{r}" for r in ("call", "groupcall", "transcribe", "transcript")],
                }
            )
        )
        await ws_once.send(
            json.dumps(
                {
                    "type": "subscribe",
                    "topics": [
                        f"customer_id:{cid}:{r}:{r}_" for r in ("call", "groupcall", "transcribe", "transcript")
                    ],
                }
            )
        )
        await asyncio.sleep(0.05)
        groupcall, call_id = await place_seed_call(api)
        await ws_call.send(json.dumps({"type": "subscribe", "topics": [f"customer_id:{cid}:call:{call_id}"]}))

        await once.wait_for(lambda f: is_transcript(f) and f["direction"] == "in")
        hung = await httpx.AsyncClient(base_url=sandbox.control_url).post(f"/calls/{call_id}/hangup")
        assert hung.status_code == 200
        await once.wait_for(lambda f: is_transcribe(f) and f["status"] == "done")
        await once.wait_for(lambda f: is_groupcall(f) and f["status"] == "hangup")
        await asyncio.sleep(0.2)

        seq = once.payloads
        # 1. groupcall_created during POST /calls.
        assert is_groupcall(seq[0])
        assert seq[0]["id"] == groupcall["id"]
        assert seq[0]["call_ids"] == [call_id]
        # 2-4. the leg: dialing -> ringing -> progressing, status events only.
        assert statuses(seq, call_id)[:3] == ["dialing", "ringing", "progressing"]
        created = next(f for f in seq if is_call(f))
        assert created["destination"]["type"] == "sip"
        assert created["destination"]["target_name"] == "quickstart-phone"
        answered = [f for f in seq if is_groupcall(f) and f["answer_call_id"] == call_id]
        assert answered
        assert answered[0]["status"] == "progressing"
        # 5. transcribe_created for the leg, direction both.
        transcribe = next(f for f in seq if is_transcribe(f))
        assert transcribe["reference_id"] == call_id
        assert transcribe["status"] == "progressing"
        assert transcribe["direction"] == "both"
        # 6. call_updated for talk, then for sleep; the greeting is transcribed `out` in between.
        actions = [f["action"].get("type") for f in seq if is_call(f) and f["status"] == "progressing"]
        assert actions == [None, "talk", "sleep"]
        talk_at = next(i for i, f in enumerate(seq) if is_call(f) and f["action"].get("type") == "talk")
        sleep_at = next(i for i, f in enumerate(seq) if is_call(f) and f["action"].get("type") == "sleep")
        greeting = [i for i, f in enumerate(seq) if is_transcript(f) and f["direction"] == "out"]
        assert greeting
        assert talk_at < greeting[0] < sleep_at
        # 7. the phone speaks: started, interim*, ended (direction in), then its transcript.
        speech_in = [f for f in seq if is_speech(f) and f["direction"] == "in"]
        assert "message" not in speech_in[0]
        assert speech_in[1]["message"].startswith("Hi,")
        interims = [f["message"] for f in speech_in if "message" in f]
        assert all(b.startswith(a) for a, b in itertools.pairwise(interims))
        assert len({f["id"] for f in speech_in}) == len(speech_in), "speech events have fresh ids"
        transcript_in = [f for f in seq if is_transcript(f) and f["direction"] == "in"]
        assert transcript_in[0]["message"] == "Hi, this is a test of the transcription feature."
        assert transcript_in[0]["tm_transcript"].startswith("0001-01-01T00:00:")
        # 8. softphone hangs up: call_hangup (remote, normal), then transcribe_done; groupcall_hangup.
        final = [f for f in seq if is_call(f) and f["status"] == "hangup"]
        assert len(final) == 1
        assert (final[0]["hangup_by"], final[0]["hangup_reason"]) == ("remote", "normal")
        done_at = next(i for i, f in enumerate(seq) if is_transcribe(f) and f["status"] == "done")
        assert seq.index(final[0]) < done_at

        # Exactly once on the `…:<res>:<res>_` prefixes, exactly twice on 3-segment prefixes.
        once_counts = collections.Counter(once.raw)
        broad_counts = collections.Counter(broad.raw)
        assert set(once_counts.values()) == {1}
        assert set(broad_counts.values()) == {2}
        assert set(once_counts) == set(broad_counts)
        # `customer_id:<cid>:call:<id>` matches only the old topic form: one copy of each call event.
        call_frames = [r for r in once.raw if is_call(json.loads(r))]
        assert per_call.raw == call_frames


async def test_prefix_matching_is_literal(
    sandbox: EmbeddedSandbox, api: httpx.AsyncClient, open_events: Any, control: httpx.AsyncClient
) -> None:
    cid = sandbox.customer_id
    wildcard = await open_events(f"customer_id:{cid}:call:*", f"customer_id:{cid}:transcribe:*")
    hangups = await open_events(f"customer_id:{cid}:call:call_hangup")
    twice = await open_events(f"customer_id:{cid}:call:call_", f"customer_id:{cid}:call:call_")
    overlapping = await open_events(f"customer_id:{cid}:call:call_", f"customer_id:{cid}:call:call_hang")
    _, call_id = await place_seed_call(api)
    await wait_call_status(api, call_id, "progressing")
    await control.post(f"/calls/{call_id}/hangup")
    await hangups.wait_for(is_call)
    await twice.wait_for(lambda f: f["status"] == "hangup")
    await asyncio.sleep(0.1)
    assert wildcard.payloads == [], "there is no wildcard: ':*' matches nothing"
    assert [f["status"] for f in hangups.payloads] == ["hangup"]
    # Subscribing the same string twice is a no-op.
    assert len(twice.raw) == len(set(twice.raw))
    # Several matching prefixes of the same published topic still deliver once.
    assert len(overlapping.raw) == len(set(overlapping.raw))


async def test_transcripts_are_not_on_the_transcribe_topic(
    sandbox: EmbeddedSandbox, api: httpx.AsyncClient, open_events: Any, control: httpx.AsyncClient
) -> None:
    cid = sandbox.customer_id
    everything = await open_events(f"customer_id:{cid}")
    _, call_id = await place_seed_call(api)
    created = await everything.wait_for(is_transcribe)
    transcribe_id = created[0]["id"]
    by_transcribe = await open_events(f"customer_id:{cid}:transcribe:{transcribe_id}")
    await control.post(f"/calls/{call_id}/speak", json={"text": "Can you hear me?"})
    await everything.wait_for(lambda f: is_transcript(f) and f["message"] == "Can you hear me?", count=2)
    await control.post(f"/calls/{call_id}/hangup")
    await by_transcribe.wait_for(lambda f: is_transcribe(f) and f["status"] == "done")
    assert all(is_transcribe(f) for f in by_transcribe.payloads)
    assert len(by_transcribe.payloads) == 1


async def test_unsubscribe_needs_the_exact_string(
    sandbox: EmbeddedSandbox, api: httpx.AsyncClient, open_events: Any
) -> None:
    cid = sandbox.customer_id
    log: EventLog = await open_events(f"customer_id:{cid}:groupcall")
    await log.ws.send(json.dumps({"type": "unsubscribe", "topics": [f"customer_id:{cid}:group"]}))
    await place_seed_call(api)
    await log.wait_for(is_groupcall)
    await log.ws.send(json.dumps({"type": "unsubscribe", "topics": [f"customer_id:{cid}:groupcall"]}))
    await asyncio.sleep(0.05)
    before = len(log.raw)
    await place_seed_call(api)
    await asyncio.sleep(0.2)
    assert len(log.raw) == before


@pytest.mark.parametrize(
    "message",
    [
        {"type": "subscribe", "topics": ["customer_id:00000000-0000-0000-0000-000000000001:call"]},
        {"type": "subscribe", "topics": ["customer_id:not-a-uuid"]},
        {"type": "subscribe", "topics": ["customer_id"]},
        {"type": "subscribe", "topics": ["account_id:{cid}"]},
        {"type": "subscribe", "topics": ["customer_id:00000000-0000-0000-0000-000000000000"]},
        {"type": "subscribe", "topics": ["customer_id:{cid}:call", "bogus"]},
        {"type": "unsubscribe", "topics": ["bogus"]},
        {"type": "whatever", "topics": ["bogus"]},
        {"type": "subscribe", "topics": ["agent_id:{cid}"]},
    ],
)
async def test_invalid_topic_drops_the_connection(sandbox: EmbeddedSandbox, message: dict[str, Any]) -> None:
    # An accesskey has no agent id, so agent_id topics are invalid for it too.
    raw = await RawWebSocket.connect(f"{sandbox.ws_url}?accesskey={sandbox.accesskey}")
    try:
        text = json.dumps(message).replace("{cid}", sandbox.customer_id)
        await raw.send_text(text)
        await raw.wait_eof(timeout=5)
        assert not raw.close_frame_received, "the server drops TCP without a close frame"
        assert raw.texts == []
    finally:
        await raw.close()


async def test_binary_frame_drops_the_connection(sandbox: EmbeddedSandbox, token: str) -> None:
    raw = await RawWebSocket.connect(f"{sandbox.ws_url}?token={token}")
    try:
        await raw.send_binary(b'{"type":"subscribe","topics":[]}')
        await raw.wait_eof(timeout=5)
        assert not raw.close_frame_received
    finally:
        await raw.close()


async def test_library_client_sees_1006(sandbox: EmbeddedSandbox, token: str) -> None:
    async with websockets.connect(f"{sandbox.ws_url}?token={token}") as ws:
        await ws.send(json.dumps({"type": "subscribe", "topics": ["nope"]}))
        with pytest.raises(websockets.ConnectionClosedError) as info:
            await asyncio.wait_for(ws.recv(), timeout=5)
        assert info.value.rcvd is None
        assert ws.close_code == 1006


async def test_garbage_and_unknown_types_are_ignored(
    sandbox: EmbeddedSandbox, api: httpx.AsyncClient, open_events: Any
) -> None:
    cid = sandbox.customer_id
    log: EventLog = await open_events()
    for text in ("not json", "[1,2]", '{"type": 5}', '{"topics": "x"}', "null", '{"type":"ping"}'):
        await log.ws.send(text)
    # Go decodes keys case-insensitively.
    await log.ws.send(json.dumps({"TYPE": "subscribe", "Topics": [f"customer_id:{cid}:groupcall"]}))
    await asyncio.sleep(0.05)
    await place_seed_call(api)
    frames = await log.wait_for(is_groupcall)
    assert frames[0]["status"] == "progressing"
    assert log.closed is None


async def test_handshake_rejects_bad_credentials_with_401(sandbox: EmbeddedSandbox) -> None:
    for query, reason in (
        ("", "AUTHENTICATION_REQUIRED"),
        ("?token=abc.def.ghi", "INVALID_CREDENTIALS"),
        ("?accesskey=vb_wrong", "INVALID_CREDENTIALS"),
    ):
        with pytest.raises(websockets.InvalidStatus) as info:
            await websockets.connect(sandbox.ws_url + query)
        response = info.value.response
        assert response.status_code == 401
        body = json.loads(response.body or b"{}")
        assert body["error"]["reason"] == reason
        assert body["error"]["request_id"] == response.headers["X-Request-Id"]


async def test_handshake_accepts_every_credential_form(sandbox: EmbeddedSandbox, token: str) -> None:
    forms: list[tuple[str, dict[str, str]]] = [
        (f"?token={token}", {}),
        (f"?accesskey={sandbox.accesskey}", {}),
        ("", {"Authorization": f"Bearer {token}"}),
        ("", {"Cookie": f"token={token}"}),
        ("", {"Cookie": f"accesskey={sandbox.accesskey}"}),
    ]
    for query, headers in forms:
        async with websockets.connect(sandbox.ws_url + query, additional_headers=headers) as ws:
            # Nothing is sent on connect.
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), timeout=0.1)


async def test_plain_get_on_ws_is_refused(sandbox: EmbeddedSandbox, token: str) -> None:
    async with httpx.AsyncClient() as client:
        anonymous = await client.get(sandbox.ws_url.replace("ws://", "http://"))
        authed = await client.get(sandbox.ws_url.replace("ws://", "http://"), params={"token": token})
    assert anonymous.status_code == 401
    assert authed.status_code == 400


async def test_pings_keep_a_ponging_client_alive(start_sandbox: SandboxFactory) -> None:
    sandbox = await start_sandbox(ping_interval=0.1, pong_timeout=0.35)
    token = await login(sandbox)
    async with websockets.connect(f"{sandbox.ws_url}?token={token}", ping_interval=None) as ws:
        await asyncio.sleep(1.0)
        # The library answered every server ping, so the 0.35 s read deadline kept moving.
        assert ws.state is websockets.State.OPEN
    stats = sandbox.stats()
    assert stats["pings_sent"] >= 7
    assert stats["pings_missed"] == 0


async def test_ping_schedule_and_drop_without_pong(start_sandbox: SandboxFactory) -> None:
    sandbox = await start_sandbox(ping_interval=0.1, pong_timeout=0.5)
    token = await login(sandbox)
    silent = await RawWebSocket.connect(f"{sandbox.ws_url}?token={token}")
    talker = await RawWebSocket.connect(f"{sandbox.ws_url}?token={token}")
    ponger = await RawWebSocket.connect(f"{sandbox.ws_url}?token={token}")
    started = time.monotonic()
    try:

        async def chatter() -> None:
            # Client text frames do not extend the read deadline; only pongs do.
            while talker.open:
                await talker.send_text('{"type":"subscribe","topics":[]}')
                await asyncio.sleep(0.05)

        async def pong() -> None:
            while ponger.open:
                await ponger.send_pong()
                await asyncio.sleep(0.1)

        tasks = [asyncio.create_task(chatter()), asyncio.create_task(pong())]
        dropped_at = await silent.wait_eof(timeout=3)
        talker_dropped = await talker.wait_eof(timeout=3)
        assert 0.4 <= dropped_at - started <= 1.5
        assert 0.4 <= talker_dropped - started <= 1.5
        assert not silent.close_frame_received
        # Pings arrived on a 0.1 s schedule until the drop.
        gaps = [b - a for a, b in zip(silent.pings, silent.pings[1:], strict=False)]
        assert len(silent.pings) >= 3
        assert all(0.05 <= g <= 0.3 for g in gaps)
        await asyncio.sleep(0.3)
        assert ponger.open, "a client that pongs stays connected"
        for task in tasks:
            task.cancel()
        assert sandbox.stats()["pings_missed"] >= 2
    finally:
        for raw in (silent, talker, ponger):
            await raw.close()


@pytest.mark.parametrize("shape", ["wrapped", "documented"])
async def test_legacy_frame_shapes(start_sandbox: SandboxFactory, shape: str) -> None:
    sandbox = await start_sandbox(frame_shape=shape)
    token = await login(sandbox)
    cid = sandbox.customer_id
    async with (
        httpx.AsyncClient(base_url=sandbox.api_url, params={"token": token}) as api,
        websockets.connect(f"{sandbox.ws_url}?token={token}") as ws,
    ):
        log = EventLog(ws)
        await ws.send(json.dumps({"type": "subscribe", "topics": [f"customer_id:{cid}:groupcall"]}))
        await asyncio.sleep(0.05)
        groupcall, _ = await place_seed_call(api)
        frames = await log.wait_for(lambda f: True, count=2)
    if shape == "wrapped":
        assert frames[0] == {"type": "groupcall_created", "data": groupcall}
    else:
        assert {f["topic"] for f in frames} == {
            f"customer_id:{cid}:groupcall:{groupcall['id']}",
            f"customer_id:{cid}:groupcall:groupcall_created:{groupcall['id']}",
        }
        assert all(f["event_type"] == "groupcall_created" for f in frames)
        assert all(f["data"] == groupcall for f in frames)
        assert all(len(f["timestamp"]) == len("2026-02-21T10:05:02.000000Z") for f in frames)


async def test_slow_reader_overflows_its_buffer(start_sandbox: SandboxFactory) -> None:
    # Interims of one long sentence carry ever longer prefixes: ~5000 frames, >10 MB in about a second.
    sandbox = await start_sandbox(
        speed=50, talk_ms_per_char=10, interim_interval=0.01, ws_buffer_frames=20, caller_script=[]
    )
    token = await login(sandbox)
    cid = sandbox.customer_id
    async with httpx.AsyncClient(base_url=sandbox.api_url, params={"token": token}) as api:
        _, call_id = await place_seed_call(api)
        await wait_call_status(api, call_id, "progressing")
        speaking = (
            await api.post("/speakings", json={"reference_type": "call", "reference_id": call_id, "direction": "out"})
        ).json()
        stalled = await RawWebSocket.connect(f"{sandbox.ws_url}?token={token}")
        try:
            await stalled.send_text(json.dumps({"type": "subscribe", "topics": [f"customer_id:{cid}:transcribe"]}))
            await asyncio.sleep(0.05)
            # Stop reading: the kernel buffers fill, then the sandbox's own 20-frame buffer.
            stalled.stop_reading()
            await api.post(f"/speakings/{speaking['id']}/say", json={"text": " ".join(["word"] * 1000)})
            deadline = time.monotonic() + 10
            while sandbox.stats()["frames_dropped"] == 0 and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert sandbox.stats()["frames_dropped"] > 0
            # Overflow drops frames for that connection only; it is not disconnected.
            assert sandbox.core is not None
            assert len(sandbox.core.connections) == 1
        finally:
            await stalled.close()


async def test_no_replay_and_no_internal_events(
    sandbox: EmbeddedSandbox, api: httpx.AsyncClient, open_events: Any, control: httpx.AsyncClient
) -> None:
    cid = sandbox.customer_id
    early = await open_events(f"customer_id:{cid}")
    _, call_id = await place_seed_call(api)
    await wait_call_status(api, call_id, "progressing")
    speaking = (await api.post("/speakings", json={"reference_type": "call", "reference_id": call_id})).json()
    late = await open_events(f"customer_id:{cid}:call")
    await api.post(f"/speakings/{speaking['id']}/stop")
    await control.post(f"/calls/{call_id}/hangup")
    await late.wait_for(lambda f: is_call(f) and f["status"] == "hangup")
    await early.wait_for(lambda f: is_transcribe(f) and f["status"] == "done")
    # Subscriptions only see what happens after them.
    assert [f["status"] for f in late.payloads] == ["hangup", "hangup"]
    # Speaking state never reaches the event channel, and there is no `call_dialing`.
    assert not [f for f in early.payloads if f.get("id") == speaking["id"]]
    assert not [
        f
        for f in early.payloads
        if "provider" in f
        and "reference_id" in f
        and "status" in f
        and f["status"] in ("initiating", "active", "stopped")
    ]
    assert statuses(early.payloads, call_id)[:2] == ["dialing", "dialing"]
