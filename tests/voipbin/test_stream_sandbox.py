"""EventStream against the real sandbox over loopback WebSocket.

Subscriptions, classification of every event of a dialled extension call,
exactly-once prefixes vs broad ones, reconnect after a drop, re-login on a 401
handshake, all three frame shapes, unordered delivery, and no secret anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import pytest

from tests.voipbin.conftest import Control, Recorder, SandboxFactory
from tui.voipbin.credentials import Credentials
from tui.voipbin.events import (
    CallEvent,
    ConnectionState,
    Event,
    GroupcallEvent,
    SpeechActivityEvent,
    TranscribeEvent,
    TranscriptEvent,
)
from tui.voipbin.models import Address, call_status_rank, sleep_action, talk_action, transcribe_start_action
from tui.voipbin.rest import VoipbinClient
from tui.voipbin.stream import EventStream, subscriptions_for

if TYPE_CHECKING:
    from tui.sandbox import EmbeddedSandbox

Item = Event | ConnectionState
GREETING = "Hello. This is the VoIPBIN real-time voice interaction test."
EXPECTED_NAMES = {
    "groupcall_created",
    "call_created",
    "call_ringing",
    "call_progressing",
    "groupcall_progressing",
    "transcribe_created",
    "call_updated",
    "transcribe_speech_started",
    "transcribe_speech_interim",
    "transcribe_speech_ended",
    "transcript_created",
    "call_hangup",
    "transcribe_done",
    "groupcall_hangup",
}


class Collector:
    """Consumes a stream in the background; tests wait for conditions on what arrived."""

    def __init__(self, stream: EventStream) -> None:
        self.stream = stream
        self.items: list[Item] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Collector:
        self._task = asyncio.create_task(self._consume())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stream.close()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, 5.0)

    async def _consume(self) -> None:
        async for item in self.stream:
            async with self._changed:
                self.items.append(item)
                self._changed.notify_all()

    @property
    def events(self) -> list[Event]:
        return [i for i in self.items if isinstance(i, Event)]

    @property
    def states(self) -> list[ConnectionState]:
        return [i for i in self.items if isinstance(i, ConnectionState)]

    def names(self) -> set[str]:
        return {e.event for e in self.events}

    async def wait(self, predicate: Callable[[Collector], Any], timeout: float = 8.0, what: str = "") -> Any:
        async def check() -> Any:
            async with self._changed:
                while True:
                    result = predicate(self)
                    if result:
                        return result
                    if self._task is not None and self._task.done():
                        raise AssertionError(f"stream ended while waiting for {what}")
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(check(), timeout)
        except TimeoutError:
            seen = [getattr(i, "event", getattr(i, "state", "?")) for i in self.items]
            raise AssertionError(f"timed out waiting for {what}; seen: {seen}") from None

    async def wait_state(self, state: str, count: int = 1, timeout: float = 8.0) -> ConnectionState:
        states = await self.wait(
            lambda c: [s for s in c.states if s.state == state][count - 1 :] or None,
            timeout,
            what=f"state {state} #{count}",
        )
        return states[0]  # type: ignore[no-any-return]

    async def wait_event(self, name: str, timeout: float = 8.0) -> Event:
        found = await self.wait(
            lambda c: next((e for e in c.events if e.event == name), None), timeout, what=f"event {name}"
        )
        return found  # type: ignore[no-any-return]


@contextlib.asynccontextmanager
async def streaming(client: VoipbinClient, topics: list[str] | None = None, **kwargs: Any) -> AsyncIterator[Collector]:
    customer_id = await client.get_customer_id()
    stream = EventStream.from_client(client, topics if topics is not None else subscriptions_for(customer_id), **kwargs)
    async with Collector(stream) as collector:
        await collector.wait_state("connected")
        yield collector


async def dial_extension(client: VoipbinClient, extension: str = "quickstart-phone") -> tuple[str, str]:
    created = await client.create_call(
        Address.tel("+15551234567"),
        [Address.extension(extension)],
        actions=[transcribe_start_action("en-US"), talk_action(GREETING, language="en-US"), sleep_action(600000)],
    )
    gc = created.groupcalls[0]
    return gc.id, gc.call_ids[0]


def finished(c: Collector) -> bool:
    return {"call_hangup", "transcribe_done", "groupcall_hangup"} <= c.names()


async def test_extension_call_events_exactly_once(sandbox_factory: SandboxFactory) -> None:
    async with (
        sandbox_factory(hangup_after_script=0.5) as sb,
        VoipbinClient(sb.api_url, accesskey=sb.accesskey) as client,
        streaming(client) as col,
    ):
        groupcall_id, leg_id = await dial_extension(client)
        await col.wait(finished, timeout=15.0, what="the call to end")
        await asyncio.sleep(0.2)  # anything late (a duplicate would show up now)

    events = col.events
    assert col.names() >= EXPECTED_NAMES, EXPECTED_NAMES - col.names()
    assert [e for e in events if e.duplicate] == []  # exactly-once prefixes: no copies
    assert [e for e in events if e.kind == "unrecognised"] == []
    assert {e.shape for e in events} == {"bare"}  # the real server's frames

    calls = [e for e in events if isinstance(e, CallEvent)]
    assert {e.call.id for e in calls} == {leg_id}
    statuses = [e.call.status for e in calls]
    assert {"dialing", "ringing", "progressing", "hangup"} <= set(statuses)
    hangup = next(e for e in calls if e.event == "call_hangup")
    assert hangup.call.hangup_by == "remote"
    assert hangup.call.hangup_reason == "normal"
    updated = [e for e in calls if e.event == "call_updated"]
    assert {e.call.action_type for e in updated} & {"talk", "sleep"}

    groupcalls = [e for e in events if isinstance(e, GroupcallEvent)]
    assert {e.groupcall.id for e in groupcalls} == {groupcall_id}
    progressing = next(e for e in groupcalls if e.event == "groupcall_progressing")
    assert progressing.groupcall.answered_call_id == leg_id

    transcribes = [e for e in events if isinstance(e, TranscribeEvent)]
    assert {e.transcribe.reference_id for e in transcribes} == {leg_id}
    transcribe_id = transcribes[0].transcribe.id

    transcripts = [e for e in events if isinstance(e, TranscriptEvent)]
    assert {e.transcript.transcribe_id for e in transcripts} == {transcribe_id}
    assert {e.transcript.direction for e in transcripts} == {"in", "out"}
    assert all(e.transcript.offset_seconds is not None for e in transcripts)
    said_in = " ".join(e.transcript.message for e in transcripts if e.transcript.direction == "in")
    assert "transcription" in said_in

    # speech activity: per stream, every utterance reads started, interim…, ended
    speech = [e for e in events if isinstance(e, SpeechActivityEvent)]
    assert {e.speech.transcribe_id for e in speech} == {transcribe_id}
    by_stream: dict[str, list[str]] = {}
    for e in speech:
        by_stream.setdefault(e.speech.streaming_id, []).append(e.event)
    for names in by_stream.values():
        open_ = False
        for name in names:
            if name == "transcribe_speech_started":
                assert not open_
                open_ = True
            elif name == "transcribe_speech_ended":
                assert open_
                open_ = False
            else:
                assert open_


async def test_broad_subscription_duplicates_are_marked(sandbox_factory: SandboxFactory) -> None:
    async with (
        sandbox_factory(hangup_after_script=0.3) as sb,
        VoipbinClient(sb.api_url, accesskey=sb.accesskey) as client,
        streaming(client, topics=[f"customer_id:{sb.customer_id}"]) as col,
    ):
        await dial_extension(client)
        await col.wait(finished, timeout=15.0, what="the call to end")
        await asyncio.sleep(0.3)

    events = [e for e in col.events if e.kind != "activeflow"]
    originals = [e for e in events if not e.duplicate]
    copies = [e for e in events if e.duplicate]
    assert len(originals) == len(copies)  # 2-segment topic: every event twice (README §6.4)
    assert {(e.kind, e.event, e.id) for e in copies} == {(e.kind, e.event, e.id) for e in originals}
    assert {e.event for e in originals} >= EXPECTED_NAMES


async def test_reconnect_after_drop_reports_states_and_resubscribes(
    sandbox: EmbeddedSandbox, control: Control, client: VoipbinClient
) -> None:
    async with streaming(client, backoff_initial=0.2) as col:
        await control.faults(drop_websockets=True)
        reconnected = await col.wait_state("reconnected")
        states = col.states
        assert [s.state for s in states] == ["connecting", "connected", "reconnecting", "reconnected"]
        drop = states[2]
        assert drop.attempt == 1
        assert drop.delay is not None
        assert 0.16 <= drop.delay <= 0.24
        assert drop.error is not None
        assert "1006" in drop.error
        assert sandbox.accesskey not in drop.error
        assert reconnected.gap_started is not None
        assert reconnected.gap_ended is not None
        assert 0.1 < reconnected.gap_ended - reconnected.gap_started < 3.0
        # resubscribed: a new call's events arrive on the new socket
        _, leg_id = await dial_extension(client)
        progressing = await col.wait_event("call_progressing")
        assert progressing.id == leg_id
        # a second drop: backoff was reset by the frames received in between
        await control.faults(drop_websockets=True)
        await col.wait_state("reconnected", count=2)
        second_drop = [s for s in col.states if s.state == "reconnecting"][1]
        assert second_drop.attempt == 1


@pytest.mark.parametrize("shape", ["bare", "wrapped", "documented"])
async def test_all_frame_shapes(sandbox_factory: SandboxFactory, shape: str) -> None:
    async with (
        sandbox_factory(frame_shape=shape, hangup_after_script=0.3) as sb,
        VoipbinClient(sb.api_url, accesskey=sb.accesskey) as client,
        streaming(client) as col,
    ):
        _, leg_id = await dial_extension(client)
        await col.wait(finished, timeout=15.0, what="the call to end")

    events = col.events
    assert {e.shape for e in events} == {shape}
    assert [e for e in events if e.kind == "unrecognised"] == []
    assert col.names() >= EXPECTED_NAMES
    if shape == "bare":
        assert all(e.inferred for e in events)
    else:
        assert not any(e.inferred for e in events)
        assert all(e.declared_event == e.event for e in events)
    if shape == "documented":
        assert all(e.topic and e.topic.startswith(f"customer_id:{sb.customer_id}:") for e in events)
    assert {e.call.id for e in events if isinstance(e, CallEvent)} == {leg_id}


async def test_frame_shape_switch_mid_stream(sandbox: EmbeddedSandbox, control: Control, client: VoipbinClient) -> None:
    async with streaming(client) as col:
        await control.faults(frame_shape="wrapped")
        await dial_extension(client)
        first = await col.wait_event("call_progressing")
        assert first.shape == "wrapped"
        await control.faults(frame_shape="documented")
        speech = await col.wait(
            lambda c: next((e for e in c.events if e.shape == "documented"), None), what="a documented frame"
        )
        assert speech.kind != "unrecognised"


async def test_reorder_loses_nothing(sandbox_factory: SandboxFactory) -> None:
    async with (
        sandbox_factory(reorder=True, reorder_jitter_ms=80.0, hangup_after_script=0.3) as sb,
        VoipbinClient(sb.api_url, accesskey=sb.accesskey) as client,
        streaming(client) as col,
    ):
        _, leg_id = await dial_extension(client)
        await col.wait(finished, timeout=15.0, what="the call to end")
        await asyncio.sleep(0.3)
        transcribe_id = next(e.transcribe.id for e in col.events if isinstance(e, TranscribeEvent))
        rest_transcripts = await client.list_transcripts(transcribe_id)

    events = col.events
    assert [e for e in events if e.kind == "unrecognised"] == []
    assert [e for e in events if e.duplicate] == []
    # ordering by rank, never by arrival, ends at hangup whatever the arrival order was
    best = max((e.call for e in events if isinstance(e, CallEvent)), key=lambda c: c.rank)
    assert best.status == "hangup"
    assert call_status_rank(best.status) == 4
    assert {"dialing", "ringing", "progressing", "hangup"} <= {
        e.call.status for e in events if isinstance(e, CallEvent)
    }
    streamed = {e.transcript.id for e in events if isinstance(e, TranscriptEvent)}
    assert streamed == {t.id for t in rest_transcripts}
    assert {"call_hangup", "transcribe_done", "groupcall_hangup", "transcript_created"} <= col.names()
    assert leg_id in {e.id for e in events}


async def test_wrong_accesskey_closes_with_a_clear_error(sandbox: EmbeddedSandbox) -> None:
    wrong = "vb_WRONGstreamKEY987654321"
    stream = EventStream(sandbox.ws_url, Credentials(accesskey=wrong), subscriptions_for(sandbox.customer_id))
    items = await asyncio.wait_for(_drain(stream), 5.0)
    states = [i for i in items if isinstance(i, ConnectionState)]
    assert [s.state for s in states] == ["connecting", "closed"]
    closed = states[-1]
    assert closed.fatal
    assert closed.error is not None
    assert "401" in closed.error
    assert "check the accesskey" in closed.error
    assert wrong not in closed.error


async def _drain(stream: EventStream) -> list[Item]:
    return [item async for item in stream]


async def test_handshake_401_relogs_in_and_reconnects(
    sandbox: EmbeddedSandbox, control: Control, recorder: Recorder
) -> None:
    async with (
        VoipbinClient(
            sandbox.api_url, username=sandbox.username, password=sandbox.password, on_request=recorder
        ) as client,
        streaming(client, backoff_initial=0.1) as col,
    ):
        await control.faults(expire_tokens=True)
        await control.faults(drop_websockets=True)
        await col.wait_state("reconnected")
        assert [s.state for s in col.states] == ["connecting", "connected", "reconnecting", "reconnected"]
        logins = [p for p in recorder.paths() if p[1] == "/auth/login"]
        assert len(logins) == 2  # the lazy first login and the one after the 401 handshake
        # the stream works on the new token, and so does REST
        _, leg_id = await dial_extension(client)
        assert (await col.wait_event("call_ringing")).id == leg_id


async def test_handshake_401_with_a_token_that_worked_keeps_retrying_then_recovers(
    sandbox: EmbeddedSandbox, control: Control
) -> None:
    async with VoipbinClient(sandbox.api_url, username=sandbox.username, password=sandbox.password) as login:
        token = await login.login()
    async with VoipbinClient(sandbox.api_url, token=token) as client:
        async with streaming(client, backoff_initial=0.05, backoff_max=0.2) as col:
            await col.wait_state("connected")
            await control.faults(expire_tokens=True)
            await control.faults(drop_websockets=True)
            refused = await col.wait(
                lambda c: next((st for st in c.states if st.unauthorized), None), what="an unauthorized retry"
            )
            await col.wait(lambda c: sum(st.unauthorized for st in c.states) >= 3, what="three retries")
            assert isinstance(refused, ConnectionState)
            assert refused.state == "reconnecting"
            assert not refused.fatal
            assert refused.error is not None
            assert "log in again" in refused.error
            assert token not in refused.error
            assert "unauthorized, retrying" in refused.summary()
            # The credential works again: the channel comes back and reports the gap to backfill.
            await control.faults(expire_tokens=False)
            back = await col.wait_state("reconnected")
        assert back.gap_started is not None
        assert not any(isinstance(i, ConnectionState) and i.state == "closed" and i.fatal for i in col.items)


async def test_invalid_topic_drop_is_explained(sandbox: EmbeddedSandbox, client: VoipbinClient) -> None:
    other_customer = str(uuid.uuid4())
    stream = EventStream.from_client(
        client, [f"customer_id:{other_customer}:call:call_"], backoff_initial=0.1, jitter=0.0
    )
    async with Collector(stream) as col:
        drop = await col.wait_state("reconnecting")
    assert drop.error is not None
    assert "subscribing" in drop.error


async def test_subscribe_and_unsubscribe_live(sandbox: EmbeddedSandbox, client: VoipbinClient) -> None:
    cid = sandbox.customer_id
    calls_only = [f"customer_id:{cid}:call:call_"]
    stream = EventStream.from_client(client, calls_only)
    async with Collector(stream) as col:
        await col.wait_state("connected")
        await stream.subscribe([f"customer_id:{cid}:groupcall:groupcall_"])
        assert stream.topics == [*calls_only, f"customer_id:{cid}:groupcall:groupcall_"]
        await dial_extension(client)
        await col.wait_event("groupcall_progressing")
        await stream.unsubscribe(calls_only)
        assert stream.topics == [f"customer_id:{cid}:groupcall:groupcall_"]
        await col.wait_event("groupcall_progressing")
    assert {e.kind for e in col.events} <= {"call", "groupcall"}
    assert "transcript" not in {e.kind for e in col.events}


async def test_no_secret_in_stream_logs_or_states(
    sandbox: EmbeddedSandbox, control: Control, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    async with VoipbinClient(sandbox.api_url, accesskey=sandbox.accesskey) as client:
        async with streaming(client, backoff_initial=0.1) as col:
            await control.faults(drop_websockets=True)
            await col.wait_state("reconnected")
        texts += [s.summary() + repr(s) for s in col.states]
    async with VoipbinClient(sandbox.api_url, username=sandbox.username, password=sandbox.password) as jwt_client:
        async with streaming(jwt_client, backoff_initial=0.1) as col:
            token = jwt_client.credentials.get_token()
            await control.faults(drop_websockets=True)
            await col.wait_state("reconnected")
        texts += [s.summary() + repr(s) for s in col.states]
    bad = EventStream(sandbox.ws_url, Credentials(accesskey="vb_badKEYforLOGtest123"), [])
    texts += [repr(i) for i in await asyncio.wait_for(_drain(bad), 5.0)]

    texts += [r.getMessage() for r in caplog.records if not r.name.startswith(("tui.sandbox", "uvicorn"))]
    assert any(r.name.startswith("tui.voipbin.stream") for r in caplog.records)
    assert token is not None
    for secret in (sandbox.accesskey, sandbox.password, token, "vb_badKEYforLOGtest123"):
        for text in texts:
            assert secret not in text, f"secret leaked into: {text[:300]}"


async def test_consumer_leaving_closes_the_socket(sandbox: EmbeddedSandbox, client: VoipbinClient) -> None:
    stream = EventStream.from_client(client, subscriptions_for(sandbox.customer_id))
    events = stream.events()
    async for item in events:
        if isinstance(item, ConnectionState) and item.state == "connected":
            break
    ws = stream._ws
    assert ws is not None
    await events.aclose()
    assert stream._ws is None
    assert ws.state.name == "CLOSED"
