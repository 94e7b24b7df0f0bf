"""CallSession: one call end to end, as plain async Python (no Textual).

dial or attach → follow the legs and their status → find the transcribe → keep the transcript →
open the speaking stream when answered → queue, flush, stop → hang up → clean up → summary.

Delivery from VoIPBIN is unordered and not replayed, so every handler here is idempotent: a call
update is applied only when it ranks higher (or is newer at the same rank), a transcript only once per
id. That makes it safe to replay recent events when a new id becomes known and to backfill from REST
after a reconnect, without ever showing anything twice.

The session holds the call's state (what ``CallView`` reads) and routes events; each job is a
collaborator that works on that state: ``CallStarter`` (dial, attach), ``LegTracker`` (legs, groupcall,
the answer), ``TranscriptionTracker`` (transcribe, transcript, quiet transcription), ``GapBackfill``
(reconnects) and ``CallEnding`` (hangup, finish, summary).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from tui.session.account import Account
from tui.session.dial import DialRequest
from tui.session.ending import CallEnding
from tui.session.gap_backfill import GapBackfill
from tui.session.legs import LEG_GRACE_S, LegTracker
from tui.session.notices import error_notice
from tui.session.record import SessionRecorder
from tui.session.recovery import Recoverer
from tui.session.says import SayItem, SayLedger
from tui.session.speaking import SpeakingOptions, SpeakingStream
from tui.session.stall import STREAM_LIMIT_S, StallWatch
from tui.session.starting import CallStarter
from tui.session.transcript import LineKind, TranscriptBook, TranscriptChange
from tui.session.transcription import TRANSCRIBE_GRACE_S, TranscriptionTracker
from tui.session.updates import (
    CallSummary,
    GapRecovered,
    Notice,
    Phase,
    PhaseChanged,
    SayUpdated,
    SessionUpdate,
    TranscriptUpdated,
)
from tui.voipbin.errors import VoipbinError
from tui.voipbin.events import Event
from tui.voipbin.models import Call, Groupcall, Transcribe, call_status_rank
from tui.voipbin.rest import RequestRecord

log = logging.getLogger(__name__)

Listener = Callable[[SessionUpdate], None]

_REQUEST_FIELDS = dataclasses.fields(RequestRecord)

# How long closing with a hangup waits for the call to end before detaching anyway.
HANGUP_WAIT_S = 3.0


class CallSession:
    """Owns one call. Create it, ``subscribe()`` a listener, then ``dial()`` or ``attach()``."""

    def __init__(
        self,
        account: Account,
        *,
        speaking: SpeakingOptions | None = None,
        recorder: SessionRecorder | None = None,
        max_lines: int = 50_000,
        transcription_quiet_s: float = 60.0,
        stream_limit_s: float = STREAM_LIMIT_S,
    ) -> None:
        self.account = account
        self.stall = StallWatch(transcription_quiet_s, stream_limit_s)
        self.client = account.client
        self.recorder = recorder or SessionRecorder(None)
        self.recorder.on_failure = lambda why: self.emit(Notice("error", f"record incomplete: {why}"))
        self.book = TranscriptBook(max_lines=max_lines)
        self.ledger = SayLedger()
        self.phase: Phase = "idle"
        self.dial_request: DialRequest | None = None
        self.language = "en-US"
        self.legs: dict[str, Call] = {}
        self.pending_legs: set[str] = set()
        self.groupcall: Groupcall | None = None
        self.main_call_id: str | None = None
        self.transcribes: dict[str, Transcribe] = {}
        self.gaps: list[GapRecovered] = []
        self.summary: CallSummary | None = None
        self.started_at = time.time()
        self.answered_mono: float | None = None
        self.ended_mono: float | None = None
        self._listeners: list[Listener] = []
        # While an event is being applied, when it was read off the event channel: the updates it causes
        # are news of that moment (the runner measures how long an expectation took from there).
        self.applying_since: float | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.recoverer = Recoverer(self.client)
        self.closed = False
        self._ended = asyncio.Event()
        # Why dialling or attaching failed, as it was reported: the console shows this one in the form.
        self.failure: Notice | None = None
        self.starter = CallStarter(self)
        self.leg_tracker = LegTracker(self)
        self.transcription = TranscriptionTracker(self)
        self.gap_backfill = GapBackfill(self)
        self.ending = CallEnding(self)
        self.speech = SpeakingStream(self.client, speaking or SpeakingOptions(), self.ledger, self.emit, self.record)
        # Routed: the account hands this session only the events about the ids it claims (see ``claim``).
        self._account_listener = account.listen(self._on_event, self.gap_backfill.on_connection, routed=True)
        if self.recorder.active:
            # Every session on an account would hear every request of it (the runner's concurrent calls
            # share one): only a session with a record to write listens (a recorder never opens later).
            account.add_request_listener(self._on_request)
        self.speech.start()

    # -- listeners --------------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def emit(self, update: SessionUpdate) -> None:
        """Report an update to every listener (the session's collaborators report through here too)."""
        if isinstance(update, SayUpdated) and update.item.state == "sent":
            self.stall.expect(time.monotonic(), "a line was said")
        for listener in list(self._listeners):
            try:
                listener(update)
            except Exception:
                log.exception("session listener failed on %s", type(update).__name__)

    def record(self, type_: str, /, *, flush: bool = False, **fields: Any) -> None:
        self.recorder.write(type_, flush=flush, **fields)

    def patch(self, changes: Iterable[TranscriptChange]) -> None:
        batch = tuple(changes)
        if batch:
            self.emit(TranscriptUpdated(batch))

    def annotate(self, key: str, text: str, *, kind: LineKind = "note", meta: dict[str, Any] | None = None) -> None:
        """A line of our own in the transcript (a scripted step and its result); the same key updates it.
        Never exported: exports keep what was said and heard."""
        self.patch(self.book.add_line(key=key, kind=kind, text=text, meta=meta))

    def _on_request(self, record: RequestRecord) -> None:
        # The fields are flat, so no deep copy.
        if self.recorder.active:
            self.record("request", **{f.name: getattr(record, f.name) for f in _REQUEST_FIELDS})

    # -- read-only views --------------------------------------------------------------------------------

    @property
    def call(self) -> Call | None:
        """The call the user cares about: the answered leg, else the only (or most advanced) leg."""
        return self.leg_tracker.main_call()

    @property
    def call_ids(self) -> set[str]:
        return set(self.legs) | self.pending_legs

    @property
    def is_live(self) -> bool:
        return self.phase in ("dialing", "live")

    def elapsed_answered(self) -> float | None:
        """Seconds since the call was answered (until it ended), for the on-screen timer."""
        if self.answered_mono is None:
            return None
        end = self.ended_mono if self.ended_mono is not None else time.monotonic()
        return max(0.0, end - self.answered_mono)

    # -- phase ------------------------------------------------------------------------------------------

    def set_phase(self, phase: Phase, detail: str = "") -> None:
        if phase == self.phase:
            return
        self.phase = phase
        if phase == "ended":
            self._ended.set()
        self.record("phase", phase=phase, detail=detail, flush=True)
        self.emit(PhaseChanged(phase, detail))

    # -- starting ---------------------------------------------------------------------------------------

    async def dial(self, request: DialRequest) -> None:
        """Place the call; raises VoipbinError (after reporting it) when VoIPBIN refuses."""
        await self.starter.dial(request)

    async def attach(self, call_id: str) -> None:
        """Follow an existing call (or groupcall) by id: load its state, transcript and speaking stream."""
        await self.starter.attach(call_id)

    def claim(self, *ids: str) -> None:
        """Events about these ids (a leg, the groupcall, a transcribe) reach this session from now on.

        Called as each id becomes known; ``_is_mine`` still decides, so a claim that outlives its reason
        (a pending leg dropped with its groupcall) costs a look-up, never a wrong event."""
        self.account.claim(self._account_listener, *ids)

    @property
    def known_ids(self) -> set[str]:
        """The ids events about this call carry: its legs, its groupcall, its transcribes."""
        ids = self.call_ids | set(self.transcribes)
        if self.groupcall is not None:
            ids.add(self.groupcall.id)
        return ids

    def catch_up(
        self, since: float, wanted: Callable[[Event], bool] | None = None, *, ids: Iterable[str] | None = None
    ) -> None:
        """Apply events that arrived before we knew which ids were ours (they were skipped then); ``ids``:
        only those about these ids (each event is still checked against ``_is_mine``)."""
        for event in self.account.recent_events(since, ids=ids):
            if wanted is None or wanted(event):
                self._handle(event, record=True)

    # -- events -----------------------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if self.closed:
            return
        if event.kind == "unrecognised":
            self.record("frame", kind=event.kind, event=event.event, reason=event.reason, raw=event.raw)
            return
        if event.duplicate:
            if self._is_mine(event):
                self.record("frame", kind=event.kind, event=event.event, id=event.id, duplicate=True)
            return
        self._handle(event, record=True)

    def _is_mine(self, event: Event) -> bool:
        ids = self.call_ids
        if event.call is not None:
            return event.call.id in ids
        if event.groupcall is not None:
            return self.groupcall is not None and event.groupcall.id == self.groupcall.id
        if event.transcribe is not None:
            return event.transcribe.reference_id in ids or event.transcribe.id in self.transcribes
        if event.transcript is not None:
            return event.transcript.transcribe_id in self.transcribes
        if event.speech is not None:
            return event.speech.transcribe_id in self.transcribes
        return False

    def _handle(self, event: Event, *, record: bool) -> None:
        if not self._is_mine(event):
            return
        outer, self.applying_since = self.applying_since, event.received_mono
        try:
            self._apply(event, record=record)
        finally:
            self.applying_since = outer

    def _apply(self, event: Event, *, record: bool) -> None:
        if record:
            self.record(
                "frame",
                kind=event.kind,
                event=event.event,
                id=event.id,
                shape=event.shape,
                received_at=event.received_at,
                data=event.data,
            )
        if event.call is not None:
            self.leg_tracker.apply_call(event.call)
        elif event.groupcall is not None:
            self.leg_tracker.apply_groupcall(event.groupcall)
        elif event.transcribe is not None:
            self.transcription.apply_transcribe(event.transcribe)
        elif event.transcript is not None:
            self.transcription.apply_transcript(event.transcript, arrived_mono=event.received_mono)
            self.transcription.heard()
        elif event.speech is not None:
            self.transcription.apply_speech(event.speech, event.event)
            self.transcription.heard()

    # -- commands ---------------------------------------------------------------------------------------

    def say(self, text: str, on_released: Callable[[], None] | None = None) -> list[SayItem]:
        """Queue a line (split when over 5000 bytes). Its SAY lines join the transcript once the first
        request has been written (see SpeakingStream.say); ``on_released`` runs once, right after that
        (at once when the text is blank)."""

        def then(items: list[SayItem]) -> None:
            try:
                self._add_say_lines(items)
            finally:
                if on_released is not None:
                    on_released()

        items = self.speech.say(text, then=then)
        if not items and on_released is not None:
            on_released()
        return items

    def add_phone_heard(self, key: str, text: str) -> None:
        """What the headless phone heard: its own kind of line (``pho``), beside VoIPBIN's ``out`` lines.

        ``text`` is the phone's speech-to-text, or a segment that says it is one (never invented words).
        """
        self.patch(self.book.add_line(key=f"phone:{key}", kind="transcript", direction="phone", text=text))

    def _add_say_lines(self, items: list[SayItem]) -> None:
        for item in items:
            self.patch(
                self.book.add_line(
                    key="s:" + item.id,
                    kind="say",
                    text=item.text,
                    direction="out",
                    meta={"say": item},
                )
            )

    def resend(self, item_id: str | None = None) -> list[SayItem]:
        item = self.ledger.get(item_id) if item_id else self.ledger.last_recoverable()
        if item is None or not item.recoverable:
            self.emit(Notice("warning", "nothing to resend"))
            return []
        return self.say(item.text)

    async def flush(self) -> None:
        await self.speech.flush()

    async def stop_speaking(self) -> None:
        await self.speech.stop()

    async def open_speaking(self) -> None:
        if self.speech.phase == "active":
            self.emit(Notice("info", "the speaking stream is already open"))
            return
        main = self.call
        if main is None or main.status != "progressing":
            self.emit(Notice("warning", "the call is not answered; the stream opens when it is"))
            return
        self.speech.reference_id = main.id
        await self.speech.open()

    async def hangup(self) -> None:
        """Hang up our call (every leg of an unanswered groupcall)."""
        await self.ending.hangup()

    async def close(self, *, hangup: bool = False) -> None:
        """Detach: optionally hang up, clean up our speaking stream, stop background work."""
        if self.closed:
            return
        if hangup and self.is_live:
            with contextlib.suppress(VoipbinError):
                await self.hangup()
            # Let the hangup land (terminating -> hangup) so the record and the clean-up see the end.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ended.wait(), HANGUP_WAIT_S)
        if self.speech.has_cleanup:
            # Runs the clean-up, or waits for the one the hangup already started: cancelling it halfway
            # would leave our stream running on VoIPBIN, which never stops it by itself.
            with contextlib.suppress(Exception):
                await self.speech.call_ended()
        self.closed = True
        self.ending.record_summary()
        self.account.remove_listener(self._account_listener)
        self.account.remove_request_listener(self._on_request)
        await self.speech.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.recorder.close()

    # -- utilities --------------------------------------------------------------------------------------

    def spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, VoipbinError):
            self.emit(error_notice(task.get_name(), exc))
        elif exc is not None:
            log.error("session task %s failed", task.get_name(), exc_info=exc)
            self.emit(Notice("error", f"internal error in {task.get_name()} (see log)"))


__all__ = ["HANGUP_WAIT_S", "LEG_GRACE_S", "TRANSCRIBE_GRACE_S", "CallSession", "call_status_rank"]
