"""CallSession: one call end to end, as plain async Python (no Textual).

dial or attach → follow the legs and their status → find the transcribe → keep the transcript →
open the speaking stream when answered → queue, flush, stop → hang up → clean up → summary.

Delivery from VoIPBIN is unordered and not replayed, so every handler here is idempotent: a call
update is applied only when it ranks higher (or is newer at the same rank), a transcript only once per
id. That makes it safe to replay recent events when a new id becomes known and to backfill from REST
after a reconnect, without ever showing anything twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from tui.session.account import Account
from tui.session.dial import DialRequest
from tui.session.record import SessionRecorder
from tui.session.recovery import Recovered, Recoverer
from tui.session.says import SayItem, SayLedger, percentile
from tui.session.speaking import SpeakingOptions, SpeakingStream
from tui.session.stall import STREAM_LIMIT_S, StallWatch
from tui.session.transcript import LineKind, TranscriptBook, TranscriptChange
from tui.session.updates import (
    CallEnded,
    CallSummary,
    CallUpdated,
    GapRecovered,
    Notice,
    Phase,
    PhaseChanged,
    SayUpdated,
    SessionUpdate,
    TranscribeUpdated,
    TranscriptUpdated,
)
from tui.voipbin.errors import VoipbinError
from tui.voipbin.events import ConnectionState, Event
from tui.voipbin.models import (
    Call,
    Groupcall,
    SpeechEvent,
    Transcribe,
    Transcript,
    call_status_rank,
    call_supersedes,
    is_nil,
)
from tui.voipbin.rest import RequestRecord

log = logging.getLogger(__name__)

Listener = Callable[[SessionUpdate], None]

# How long to wait for an event before asking REST (a leg record, a transcribe).
LEG_GRACE_S = 1.5
TRANSCRIBE_GRACE_S = 2.0
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
        self.recorder.on_failure = lambda why: self._emit(Notice("error", f"record incomplete: {why}"))
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
        self._tasks: set[asyncio.Task[Any]] = set()
        self._backfill_lock = asyncio.Lock()
        self.recoverer = Recoverer(self.client)
        self._transcribe_search: asyncio.Task[None] | None = None
        self._closed = False
        self._answer_handled = False
        self._hangup_requested = False
        self._ended = asyncio.Event()
        # While attaching, an existing speaking stream must be found before auto-open would create one.
        self._attaching = False
        # Why dialling or attaching failed, as it was reported: the console shows this one in the form.
        self.failure: Notice | None = None
        self.speech = SpeakingStream(self.client, speaking or SpeakingOptions(), self.ledger, self._emit, self._record)
        self._account_listener = account.listen(self._on_event, self._on_connection)
        account.add_request_listener(self._on_request)
        self.speech.start()

    # -- listeners --------------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def _emit(self, update: SessionUpdate) -> None:
        if isinstance(update, SayUpdated) and update.item.state == "sent":
            self.stall.expect(time.monotonic(), "a line was said")
        for listener in list(self._listeners):
            try:
                listener(update)
            except Exception:
                log.exception("session listener failed on %s", type(update).__name__)

    def _record(self, type_: str, /, *, flush: bool = False, **fields: Any) -> None:
        self.recorder.write(type_, flush=flush, **fields)

    def _on_request(self, record: RequestRecord) -> None:
        self._record("request", **dataclasses.asdict(record))

    # -- read-only views --------------------------------------------------------------------------------

    @property
    def call(self) -> Call | None:
        """The call the user cares about: the answered leg, else the only (or most advanced) leg."""
        if self.main_call_id and self.main_call_id in self.legs:
            return self.legs[self.main_call_id]
        if not self.legs:
            return None
        return max(self.legs.values(), key=lambda c: (c.rank, _ts(c.tm_update or c.tm_create)))

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

    def _set_phase(self, phase: Phase, detail: str = "") -> None:
        if phase == self.phase:
            return
        self.phase = phase
        if phase == "ended":
            self._ended.set()
        self._record("phase", phase=phase, detail=detail, flush=True)
        self._emit(PhaseChanged(phase, detail))

    # -- starting ---------------------------------------------------------------------------------------

    async def dial(self, request: DialRequest) -> None:
        """Place the call; raises VoipbinError (after reporting it) when VoIPBIN refuses."""
        if self.phase != "idle":
            raise RuntimeError("a session dials once; start a new session for a new call")
        problems = request.problems()
        if problems:
            self._fail(Notice("error", "cannot dial: " + "; ".join(problems)), "; ".join(problems))
            raise ValueError("; ".join(problems))
        self.dial_request = request
        self.language = request.language
        self._set_phase("dialing", request.destination)
        body = request.body()
        self._record("dial", body=body, flush=True)
        since = time.time() - 1.0
        try:
            result = await self.client.create_call(body["source"], body["destinations"], body["actions"])
        except VoipbinError as exc:
            self._fail(await self._dial_failure_notice(request, exc), str(exc))
            raise
        for gc in result.groupcalls[:1]:
            self._apply_groupcall(gc)
        for call in result.calls:
            self._apply_call(call)
        for cid in result.call_ids:
            if cid not in self.legs:
                self.pending_legs.add(cid)
        self._set_phase("live")
        self._catch_up(since)
        self._spawn(self._await_legs(), "await-legs")

    def _fail(self, notice: Notice, detail: str) -> None:
        self.failure = notice
        self._emit(notice)
        self._set_phase("failed", detail)

    async def attach(self, call_id: str) -> None:
        """Follow an existing call (or groupcall) by id: load its state, transcript and speaking stream."""
        if self.phase != "idle":
            raise RuntimeError("a session attaches once")
        self._set_phase("dialing", f"attaching to {call_id}")
        self._attaching = True
        self.speech.adopted_streams_are_ours = False
        since = time.time() - 1.0
        try:
            call = await self.client.get_call(call_id)
        except VoipbinError as exc:
            if exc.http_status != 404:
                self._fail(_error_notice("cannot attach", exc), str(exc))
                raise
            try:
                gc = await self.client.get_groupcall(call_id)
            except VoipbinError:
                self._fail(_error_notice(f"no call or groupcall {call_id}", exc), str(exc))
                raise exc from None
            self._apply_groupcall(gc)
            for cid in gc.call_ids:
                with contextlib.suppress(VoipbinError):
                    self._apply_call(await self.client.get_call(cid))
        else:
            self._apply_call(call)
        self._set_phase("live")
        self._catch_up(since)
        main = self.call
        if main is not None:
            await self._load_transcribes([main.id], backfilled=False)
            await self._adopt_speaking(main)
        self._attaching = False
        main = self.call
        if main is not None:
            self._on_main_call_changed(main)

    async def _adopt_speaking(self, call: Call) -> None:
        if call.status != "progressing":
            return
        try:
            page = await self.client.list_speakings(page_size=100)
        except VoipbinError:
            return
        for sp in page.result:
            if sp.reference_id == call.id and sp.status in ("active", "initiating") and sp.tm_delete is None:
                self.speech.adopt_existing(sp, call.id)
                return

    async def _dial_failure_notice(self, request: DialRequest, exc: VoipbinError) -> Notice:
        hint = exc.hint()
        if request.kind == "extension" and exc.http_status == 500:
            hint = "is the softphone registered? dial by the extension, not the name"
            with contextlib.suppress(VoipbinError):
                for ext in await self.account.extensions():
                    if ext.name == request.destination and ext.extension != request.destination:
                        hint = (
                            f"{request.destination!r} is an extension's name: dial its extension "
                            f"{ext.extension!r} instead"
                        )
                        break
        return Notice("error", f"dial failed: {exc}", hint=hint, request_id=exc.request_id, reason=exc.reason)

    async def _await_legs(self) -> None:
        """A groupcall leg's record appears just after POST /calls; fetch it if no event brought it."""
        delay = LEG_GRACE_S
        for _ in range(5):
            await asyncio.sleep(delay)
            missing = [cid for cid in self.pending_legs if cid not in self.legs]
            if not missing or not self.is_live:
                return
            for cid in missing:
                try:
                    self._apply_call(await self.client.get_call(cid))
                except VoipbinError as exc:
                    if exc.http_status != 404:
                        log.info("leg %s not readable yet: %s", cid, exc)
            delay *= 2

    def _catch_up(self, since: float, wanted: Callable[[Event], bool] | None = None) -> None:
        """Apply events that arrived before we knew which ids were ours (they were skipped then)."""
        for event in self.account.recent_events(since):
            if wanted is None or wanted(event):
                self._handle(event, record=True)

    # -- events -----------------------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if self._closed:
            return
        if event.kind == "unrecognised":
            self._record("frame", kind=event.kind, event=event.event, reason=event.reason, raw=event.raw)
            return
        if event.duplicate:
            if self._is_mine(event):
                self._record("frame", kind=event.kind, event=event.event, id=event.id, duplicate=True)
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
        if record:
            self._record(
                "frame",
                kind=event.kind,
                event=event.event,
                id=event.id,
                shape=event.shape,
                received_at=event.received_at,
                data=event.data,
            )
        if event.call is not None:
            self._apply_call(event.call)
        elif event.groupcall is not None:
            self._apply_groupcall(event.groupcall)
        elif event.transcribe is not None:
            self._apply_transcribe(event.transcribe)
        elif event.transcript is not None:
            self._apply_transcript(event.transcript, arrived_mono=event.received_mono)
            self._transcription_heard()
        elif event.speech is not None:
            self._apply_speech(event.speech, event.event)
            self._transcription_heard()

    # -- transcription that went quiet ------------------------------------------------------------------

    def _transcription_heard(self) -> None:
        if self.stall.heard():
            self._emit(Notice("info", "transcription is producing results again"))

    async def _watch_stall(self) -> None:
        interval = max(0.05, min(5.0, self.stall.quiet_after / 4))
        while self.is_live:
            await asyncio.sleep(interval)
            live = [t for t in self.transcribes.values() if t.status == "progressing" and t.tm_delete is None]
            if not live:
                continue
            newest = max(live, key=lambda t: _ts(t.tm_create))
            age = None if newest.tm_create is None else (datetime.now(UTC) - newest.tm_create).total_seconds()
            warning = self.stall.check(time.monotonic(), progressing=True, stream_age=age, provider=newest.provider)
            if warning is not None:
                self._record("transcription_quiet", text=warning.text, likely_limit=warning.likely_limit, flush=True)
                self._patch(self.book.add_line(key=f"q:{time.monotonic()}", kind="note", text=f"⚠ {warning.text}"))
                self._emit(Notice("warning", warning.text, hint=warning.hint))

    # -- applying state ---------------------------------------------------------------------------------

    def _apply_call(self, call: Call) -> bool:
        if is_nil(call.id):
            return False
        prev = self.legs.get(call.id)
        if prev is not None and not call_supersedes(call, prev):
            return False
        self.legs[call.id] = call
        self.pending_legs.discard(call.id)
        if prev is None and self._hangup_requested and call.status in ("dialing", "ringing", "progressing"):
            self._spawn(self._hang_up_leg(call.id), "hangup-late-leg")
        if self.main_call_id is None and (len(self.call_ids) == 1 or call.status == "progressing"):
            self.main_call_id = call.id
        self._record(
            "call",
            id=call.id,
            status=call.status,
            action=call.action_type,
            hangup_by=call.hangup_by or None,
            hangup_reason=call.hangup_reason or None,
            flush=True,
        )
        self._emit(CallUpdated(self.call, dict(self.legs), self.groupcall))
        if self.main_call_id == call.id:
            self._on_main_call_changed(call)
        elif self._all_legs_over():
            self._spawn(self._finish(), "finish")
        return True

    def _on_main_call_changed(self, call: Call) -> None:
        if self.answered_mono is None and (call.status == "progressing" or call.tm_progressing is not None):
            self.answered_mono = time.monotonic()
            if call.tm_progressing is not None:
                # Attach mode: the call was answered before we arrived.
                ago = (datetime.now(UTC) - call.tm_progressing).total_seconds()
                if ago > 1.0:
                    self.answered_mono -= ago
        if call.action_type == "talk" and call.status == "progressing":
            self.stall.expect(time.monotonic(), "the greeting is playing")
        if call.status == "progressing" and not self._answer_handled and not self._attaching:
            self._answer_handled = True
            self._spawn(self._watch_stall(), "transcription-quiet")
            self.speech.call_answered(call.id, self.language)
            self._look_for_transcribe(call.id)
        if call.is_hungup:
            self._spawn(self._finish(), "finish")

    def _all_legs_over(self) -> bool:
        if self.pending_legs or not self.legs:
            return False
        return all(c.is_hungup for c in self.legs.values())

    def _apply_groupcall(self, gc: Groupcall) -> None:
        if self.groupcall is not None and gc.id != self.groupcall.id:
            return
        prev = self.groupcall
        if prev is not None and _gc_rank(gc) < _gc_rank(prev):
            return
        self.groupcall = gc
        fresh = {cid for cid in gc.call_ids if not is_nil(cid) and cid not in self.call_ids}
        self.pending_legs |= fresh
        if fresh and prev is not None:
            self._catch_up(self.started_at - 1.0, lambda e: e.call is not None and e.call.id in fresh)
        answered = gc.answered_call_id
        if answered and self.main_call_id != answered:
            self.main_call_id = answered
            main = self.legs.get(answered)
            if main is not None:
                self._on_main_call_changed(main)
        self._record("groupcall", id=gc.id, status=gc.status, answer_call_id=answered, call_ids=gc.call_ids)
        self._emit(CallUpdated(self.call, dict(self.legs), self.groupcall))
        if gc.status == "hangup" and self.pending_legs:
            # A leg without a record by now was cancelled with the groupcall and will never exist.
            self.pending_legs.clear()
            if not self.legs or self._all_legs_over():
                self._spawn(self._finish(), "finish")

    def _apply_transcribe(self, tr: Transcribe) -> None:
        prev = self.transcribes.get(tr.id)
        if prev is not None and prev.status == "done" and tr.status != "done" and tr.tm_delete is None:
            return
        new = prev is None
        self.transcribes[tr.id] = tr
        self._record("transcribe", id=tr.id, status=tr.status, reference_id=tr.reference_id)
        self._emit(TranscribeUpdated(tr))
        if new:
            # Transcripts may have arrived before the transcribe that owns them. Interim text is not
            # replayed: it is stale by now and would linger until the next final.
            self._catch_up(
                self.started_at - 1.0,
                lambda e: e.transcript is not None and e.transcript.transcribe_id == tr.id,
            )
        if tr.status == "done":
            self._patch(self.book.clear_all_interim())
            if self.phase == "ended":
                self._publish_summary()

    def _apply_transcript(self, tr: Transcript, *, arrived_mono: float, backfilled: bool = False) -> bool:
        at = tr.tm_create or datetime.now(UTC)
        changes = self.book.add_transcript(
            transcript_id=tr.id,
            transcribe_id=tr.transcribe_id,
            direction=tr.direction,
            text=tr.message,
            at=at,
            offset=tr.offset_seconds,
            backfilled=backfilled,
        )
        if not changes:
            return False
        self._record(
            "transcript",
            id=tr.id,
            transcribe_id=tr.transcribe_id,
            direction=tr.direction,
            message=tr.message,
            tm_create=tr.tm_create,
            offset=tr.offset_seconds,
            backfilled=backfilled,
        )
        if tr.direction == "out":
            item = self.ledger.match_transcript(tr.id, tr.message, arrived_mono)
            if item is not None:
                line = self.book.get("t:" + tr.id)
                if line is not None:
                    line.meta["say_id"] = item.id
                self._record(
                    "say", id=item.id, state=item.state, latency_ms=item.latency_ms, coverage=round(item.coverage, 3)
                )
                self._emit_say(item)
        self._patch(changes)
        if self.phase == "ended":
            self._publish_summary()
        return True

    def _apply_speech(self, speech: SpeechEvent, name: str) -> None:
        at = speech.tm_event or speech.tm_create or datetime.now(UTC)
        if speech.message:
            self._patch(
                self.book.set_interim(
                    transcribe_id=speech.transcribe_id,
                    direction=speech.direction,
                    text=speech.message,
                    at=at,
                )
            )
        elif name.endswith("_started"):
            self._patch(
                self.book.set_interim(
                    transcribe_id=speech.transcribe_id,
                    direction=speech.direction,
                    text="…",
                    at=at,
                )
            )

    def annotate(self, key: str, text: str, *, kind: LineKind = "note", meta: dict[str, Any] | None = None) -> None:
        """A line of our own in the transcript (a scripted step and its result); the same key updates it.
        Never exported: exports keep what was said and heard."""
        self._patch(self.book.add_line(key=key, kind=kind, text=text, meta=meta))

    def _patch(self, changes: Iterable[TranscriptChange]) -> None:
        batch = tuple(changes)
        if batch:
            self._emit(TranscriptUpdated(batch))

    def _emit_say(self, item: SayItem) -> None:
        self._emit(SayUpdated(item))

    # -- transcribe discovery -----------------------------------------------------------------------------

    def _look_for_transcribe(self, call_id: str) -> None:
        if self._transcribe_search is None or self._transcribe_search.done():
            self._transcribe_search = self._spawn(self._search_transcribe(call_id), "find-transcribe")

    async def _search_transcribe(self, call_id: str) -> None:
        delay = TRANSCRIBE_GRACE_S
        for _ in range(4):
            await asyncio.sleep(delay)
            if any(t.reference_id == call_id for t in self.transcribes.values()) or not self.is_live:
                return
            await self._load_transcribes([call_id], backfilled=False)
            delay *= 2

    async def _load_transcribes(self, call_ids: Iterable[str], *, backfilled: bool) -> dict[str, int]:
        counts = {"transcribes": 0, "transcripts": 0}
        for cid in call_ids:
            try:
                page = await self.client.list_transcribes(reference_type="call", reference_id=cid)
            except VoipbinError as exc:
                log.info("transcribe lookup failed: %s", exc)
                continue
            for tr in page.result:
                if tr.id not in self.transcribes:
                    counts["transcribes"] += 1
                self._apply_transcribe(tr)
        for tid in list(self.transcribes):
            try:
                transcripts = await self.client.list_transcripts(tid)
            except VoipbinError as exc:
                log.info("transcript backfill failed: %s", exc)
                continue
            now = time.monotonic()
            for item in sorted(transcripts, key=lambda t: _ts(t.tm_create)):
                if self._apply_transcript(item, arrived_mono=now, backfilled=backfilled):
                    counts["transcripts"] += 1
        return counts

    # -- reconnect backfill -------------------------------------------------------------------------------

    def _on_connection(self, state: ConnectionState) -> None:
        self._record(
            "connection", state=state.state, attempt=state.attempt, delay=state.delay, error=state.error, flush=True
        )
        if state.state == "reconnected" and not self._closed and self.phase in ("live", "ended"):
            self._spawn(self._backfill(state), "backfill")

    async def _backfill(self, state: ConnectionState) -> None:
        """Re-read what the outage may have hidden and mark the gap in the transcript."""
        async with self._backfill_lock:
            started = state.gap_started or state.at
            ended = state.gap_ended or state.at
            recovered = {"status": 0, "transcripts": 0}
            error: str | None = None
            try:
                missed = await self.recoverer.recover(
                    call_ids=list(self.call_ids),
                    groupcall_ids=[self.groupcall.id] if self.groupcall is not None else [],
                    transcribe_ids=list(self.transcribes),
                    since=started,
                )
            except VoipbinError as exc:
                error = str(exc)
                self._emit(_error_notice("backfill after reconnect failed", exc))
            else:
                recovered["status"] += self._apply_recovered(missed)
                now = time.monotonic()
                for item in missed.transcripts:
                    if self._apply_transcript(item, arrived_mono=now, backfilled=True):
                        recovered["transcripts"] += 1
                if missed.errors:
                    error = missed.errors[0]
                if recovered["transcripts"]:
                    self._transcription_heard()
                self._record("recovered", via=missed.via, errors=len(missed.errors))
            gap = GapRecovered(started, ended, recovered, error)
            self.gaps.append(gap)
            text = (
                f"connection lost for {gap.seconds:.1f}s — recovered {recovered['transcripts']} transcript(s)"
                f", {recovered['status']} status change(s)"
            )
            if error:
                text += " (backfill incomplete)"
            self._patch(
                self.book.add_line(
                    key=f"g:{len(self.gaps)}",
                    kind="gap",
                    text=text,
                    at=datetime.fromtimestamp(started, UTC),
                    meta={"recovered": recovered, "error": error},
                )
            )
            self._record("gap", started=started, ended=ended, recovered=recovered, error=error, flush=True)
            self._emit(gap)

    def _apply_recovered(self, missed: Recovered) -> int:
        """Apply read-back state; returns how many status changes it brought."""
        changes = 0
        for gc in missed.groupcalls.values():
            if self.groupcall is not None and gc.id == self.groupcall.id:
                before = self.groupcall.status
                self._apply_groupcall(gc)
                changes += int(self.groupcall.status != before)
        for call in missed.calls.values():
            if call.id in self.call_ids and self._apply_call(call):
                changes += 1
        for tr in missed.transcribes.values():
            if tr.reference_id in self.legs:
                self._apply_transcribe(tr)
        return changes

    # -- commands ---------------------------------------------------------------------------------------

    def say(self, text: str) -> list[SayItem]:
        """Queue a line (split when over 5000 bytes). Its SAY lines join the transcript once the first
        request has been written (see SpeakingStream.say)."""
        return self.speech.say(text, then=self._add_say_lines)

    def _add_say_lines(self, items: list[SayItem]) -> None:
        for item in items:
            self._patch(
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
            self._emit(Notice("warning", "nothing to resend"))
            return []
        return self.say(item.text)

    async def flush(self) -> None:
        await self.speech.flush()

    async def stop_speaking(self) -> None:
        await self.speech.stop()

    async def open_speaking(self) -> None:
        if self.speech.phase == "active":
            self._emit(Notice("info", "the speaking stream is already open"))
            return
        main = self.call
        if main is None or main.status != "progressing":
            self._emit(Notice("warning", "the call is not answered; the stream opens when it is"))
            return
        self.speech.reference_id = main.id
        await self.speech.open()

    async def hangup(self) -> None:
        """Hang up our call (every leg of an unanswered groupcall)."""
        gc = self.groupcall
        if gc is not None and not self.legs and gc.status == "progressing":
            # No leg record exists yet (the extension is still being dialled): only the groupcall's
            # hangup reaches a leg that does not exist yet, so the call is never left ringing.
            self._record("hangup", groupcall=gc.id, flush=True)
            self._hangup_requested = True
            try:
                self._apply_groupcall(await self.client.hangup_groupcall(gc.id))
                return
            except VoipbinError as exc:
                if exc.http_status not in (404, 405, 501):
                    self._emit(_error_notice("hangup failed", exc))
                    return
                log.info("groupcall hangup not available (%s); hanging up the legs", exc.http_status)
        targets = [self.main_call_id] if self.main_call_id else list(self.call_ids)
        targets = [t for t in targets if t and not (t in self.legs and self.legs[t].is_hungup)]
        if not targets:
            self._emit(Notice("info", "the call has already ended"))
            return
        self._record("hangup", targets=targets, flush=True)
        # A groupcall leg whose record does not exist yet answers 404; it is hung up as soon as it appears.
        self._hangup_requested = True
        for cid in targets:
            await self._hang_up_leg(cid)

    async def _hang_up_leg(self, cid: str) -> None:
        try:
            self._apply_call(await self.client.hangup_call(cid))
        except VoipbinError as exc:
            if exc.http_status == 404 and cid in self.pending_legs:
                return
            self._emit(_error_notice("hangup failed", exc))

    async def close(self, *, hangup: bool = False) -> None:
        """Detach: optionally hang up, clean up our speaking stream, stop background work."""
        if self._closed:
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
        self._closed = True
        self.account.remove_listener(self._account_listener)
        self.account.remove_request_listener(self._on_request)
        await self.speech.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.recorder.close()

    # -- ending -----------------------------------------------------------------------------------------

    async def _finish(self) -> None:
        if self.phase == "ended":
            return
        self.ended_mono = time.monotonic()
        self._set_phase("ended", self._hangup_text())
        self._patch(self.book.clear_all_interim())
        # The summary does not wait for the clean-up's requests; the speaking stream's end shows by itself.
        self._publish_summary()
        await self.speech.call_ended()

    def _hangup_text(self) -> str:
        call = self.call
        if call is None:
            return ""
        return " ".join(p for p in (call.hangup_by, call.hangup_reason) if p)

    def _publish_summary(self) -> None:
        self.summary = self._make_summary()
        self._record("summary", **self.summary.as_dict(), flush=True)
        self._emit(CallEnded(self.summary))

    def _make_summary(self) -> CallSummary:
        call = self.call
        duration: float | None = None
        if call is not None and call.tm_progressing is not None and call.tm_hangup is not None:
            duration = (call.tm_hangup - call.tm_progressing).total_seconds()
        elif self.answered_mono is not None:
            duration = self.elapsed_answered()
        elif call is not None:
            duration = 0.0
        lat = self.ledger.latencies_ms()
        items = self.ledger.items
        return CallSummary(
            call_id=call.id if call is not None else None,
            duration_s=duration,
            hangup_by=call.hangup_by if call is not None else "",
            hangup_reason=call.hangup_reason if call is not None else "",
            lines_in=self.book.final_count.get("in", 0),
            lines_out=self.book.final_count.get("out", 0),
            says_sent=sum(1 for i in items if i.sent_mono is not None),
            says_heard=sum(1 for i in items if i.heard_mono is not None),
            says_failed=sum(1 for i in items if i.state == "failed"),
            say_heard_p50_ms=percentile(lat, 50),
            say_heard_p95_ms=percentile(lat, 95),
            record_path=str(self.recorder.path) if self.recorder.path and self.recorder.active else None,
            gaps=len(self.gaps),
            record_incomplete=self.recorder.failed,
        )

    # -- utilities --------------------------------------------------------------------------------------

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
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
            self._emit(_error_notice(task.get_name(), exc))
        elif exc is not None:
            log.error("session task %s failed", task.get_name(), exc_info=exc)
            self._emit(Notice("error", f"internal error in {task.get_name()} (see log)"))


_GC_RANK = {"progressing": 0, "hangingup": 1, "hangup": 2}


def _gc_rank(gc: Groupcall) -> tuple[int, int]:
    return (_GC_RANK.get(gc.status, -1), 0 if is_nil(gc.answer_call_id) else 1)


def _ts(value: datetime | None) -> float:
    return value.timestamp() if value is not None else 0.0


def _error_notice(what: str, exc: VoipbinError) -> Notice:
    return Notice("error", f"{what}: {exc}", hint=exc.hint(), request_id=exc.request_id, reason=exc.reason)


__all__ = ["CallSession", "call_status_rank"]
