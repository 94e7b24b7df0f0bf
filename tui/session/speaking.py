"""The call's Speaking stream: open it, keep an eye on it, send lines in order, flush, stop, clean up.

No event exists for a speaking (README §6.5), so its state comes from our own requests and a gentle
poll of ``GET /speakings/{id}``. Lines are sent one at a time in the order typed; a line that cannot be
sent keeps its text and becomes ``failed`` so the user can resend it. ``POST /say`` is never retried
automatically: a repeat would be spoken twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from tui.session.says import SayItem, SayLedger
from tui.session.textsplit import split_for_say
from tui.session.updates import Notice, SayUpdated, SessionUpdate, SpeakingPhase, SpeakingUpdated
from tui.voipbin.errors import VoipbinError
from tui.voipbin.models import Speaking
from tui.voipbin.rest import VoipbinClient

log = logging.getLogger(__name__)

# Longest wait for a request to be written before listeners hear of the lines anyway.
HOLD_MAX = 0.05


@dataclass(frozen=True, slots=True)
class SpeakingOptions:
    auto_open: bool = True
    provider: str = "elevenlabs"
    direction: str = "out"
    language: str = ""
    voice_id: str = ""
    poll_interval: float = 3.0


class SpeakingStream:
    """One session's speaking stream and its queue of lines."""

    def __init__(
        self,
        client: VoipbinClient,
        options: SpeakingOptions,
        ledger: SayLedger,
        emit: Callable[[SessionUpdate], None],
        record: Callable[..., None],
    ) -> None:
        self._client = client
        self.options = options
        self.ledger = ledger
        self._emit = emit
        self._record = record
        self.speaking: Speaking | None = None
        self.phase: SpeakingPhase = "none"
        self.detail = ""
        # True when we created the stream, so we also stop and delete it at the end.
        self.ours = False
        # Every stream we created on this call, current or stopped: all are deleted when the call ends.
        self._owned: list[str] = []
        # A create request still out: the clean-up waits for it, since the server may make the stream even
        # when whoever asked stopped waiting (Ctrl+C, SIGTERM, a hangup while it was opening).
        self._creating: asyncio.Future[Speaking] | None = None
        # A stream found already open on a call we dialled is a leftover of ours; on an attached call it
        # belongs to someone else and must survive our leaving.
        self.adopted_streams_are_ours = True
        self.reference_id: str | None = None
        self.language = options.language
        self._queue: asyncio.Queue[SayItem] = asyncio.Queue()
        self._phase_changed = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None
        self._poller: asyncio.Task[None] | None = None
        self._open_lock = asyncio.Lock()
        self._call_live = False
        self._closed = False
        self._tasks: set[asyncio.Task[bool]] = set()
        self._in_flight: SayItem | None = None
        # The /say request now out, and what to call its line when flush/stop/reopen abandons it.
        self._say_task: asyncio.Future[Speaking] | None = None
        self._abandoned = ("flushed", "")
        self._parked: SayItem | None = None
        self._ending: asyncio.Future[None] | None = None
        self._held: list[Callable[[], None]] = []

    # -- state ------------------------------------------------------------------------------------------

    def _set_phase(self, phase: SpeakingPhase, detail: str = "") -> None:
        if phase == self.phase and detail == self.detail:
            return
        self.phase, self.detail = phase, detail
        self._phase_changed.set()
        self._record("speaking", phase=phase, detail=detail, speaking=self.speaking, flush=True)
        self._emit(SpeakingUpdated(phase, self.speaking, detail))

    def _adopt(self, speaking: Speaking) -> None:
        self.speaking = speaking
        status = speaking.status
        if status == "active":
            self._set_phase("active")
        elif status == "initiating":
            self._set_phase("opening", "initiating")
        elif status == "stopped":
            self._set_phase("stopped", "stopped")
        else:
            self._set_phase(self.phase, f"status {status!r}")

    def start(self) -> None:
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_loop(), name="say-sender")

    def call_answered(self, call_id: str, language: str) -> None:
        """The call is progressing: remember where to speak, and open the stream if configured to."""
        self.reference_id = call_id
        self._call_live = True
        self.language = self.options.language or language
        if self.phase == "none" and self.options.auto_open:
            self._open_soon()
        elif self.phase == "none":
            self._set_phase("waiting", "auto-open is off: /speak opens a stream")

    def adopt_existing(self, speaking: Speaking, call_id: str) -> None:
        """Attach mode: someone else's live stream on this call; use it, but leave it running at the end."""
        self.reference_id = call_id
        self._call_live = True
        self.ours = False
        self._adopt(speaking)
        self._ensure_poller()

    # -- commands ---------------------------------------------------------------------------------------

    async def open(self) -> bool:
        """Create a speaking stream on the call (also "reopen" after stop). True when it is active."""
        async with self._open_lock:
            if self.phase == "active":
                return True
            self._abandon_in_flight("failed", "a new speaking stream was opened while this line was being sent")
            if not self.reference_id:
                self._set_phase("waiting", "the call has not been answered yet")
                return False
            self._set_phase("opening")
            create = asyncio.ensure_future(
                self._client.create_speaking(
                    self.reference_id,
                    language=self.language or None,
                    provider=self.options.provider or None,
                    direction=self.options.direction or None,
                    voice_id=self.options.voice_id or None,
                )
            )
            self._creating = create
            create.add_done_callback(self._own_created)
            try:
                # Shielded: cancelling open() leaves the request to finish (see _creating).
                speaking = await asyncio.shield(create)
            except VoipbinError as exc:
                adopted = await self._adopt_after_failure(exc)
                if not adopted:
                    self._set_phase("failed", exc.message or str(exc))
                    self._emit(_notice("could not open the speaking stream", exc))
                    return False
            else:
                self.ours = True
                self._adopt(speaking)
            self._ensure_poller()
            return self.is_active

    def _own_created(self, create: asyncio.Future[Speaking]) -> None:
        if not create.cancelled() and create.exception() is None and create.result().id not in self._owned:
            self._owned.append(create.result().id)

    @property
    def is_active(self) -> bool:
        return self.phase == "active"

    @property
    def has_cleanup(self) -> bool:
        """Streams of ours still to delete, or their deletion under way."""
        return bool(self._owned) or (self._ending is not None and not self._ending.done())

    async def _adopt_after_failure(self, exc: VoipbinError) -> bool:
        # A 500 on create often means a stream is already open on this call (a previous run of ours, say):
        # using it is what the user wants, and beats an error they cannot act on.
        if exc.http_status != 500 or not self.reference_id:
            return False
        try:
            page = await self._client.list_speakings(page_size=50)
        except VoipbinError:
            return False
        for sp in page.result:
            if sp.reference_id == self.reference_id and sp.status in ("active", "initiating") and not sp.tm_delete:
                self.ours = self.adopted_streams_are_ours
                if self.ours and sp.id not in self._owned:
                    self._owned.append(sp.id)
                self._adopt(sp)
                self._emit(Notice("info", "reusing the speaking stream already open on this call"))
                return True
        return False

    def say(self, text: str, then: Callable[[list[SayItem]], None] | None = None) -> list[SayItem]:
        """Queue text (split at 5000 bytes); returns the new lines, or [] for blank text.

        Listeners hear of the new lines (and ``then(items)`` runs) only once the first request has been
        written, or at once when nothing can be sent now: Enter → request is a measured goal, and
        redrawing the screen for the new lines first would hold the request up by milliseconds.
        """
        parts = split_for_say(text)
        if not parts:
            return []
        items = self.ledger.add(parts)
        for item in items:
            self._queue.put_nowait(item)
            self._record("say", id=item.id, state=item.state, text=item.text, part=item.part, parts=item.parts)
        self._hold([SayUpdated(item) for item in items], then, items)
        if len(items) > 1:
            self._emit(Notice("info", f"long line split into {len(items)} parts (the limit is 5000 bytes)"))
        if self._call_live and self.options.auto_open and self.phase in ("none", "failed"):
            self._open_soon()
        return items

    def _hold(
        self, updates: list[SessionUpdate], then: Callable[[list[SayItem]], None] | None, items: list[SayItem]
    ) -> None:
        def release() -> None:
            for update in updates:
                self._emit(update)
            if then is not None:
                then(items)

        loop = asyncio.get_running_loop()
        if self.phase == "active" and self._in_flight is None and self._queue.qsize() == len(items):
            self._held.append(release)
            loop.call_later(HOLD_MAX, self._release_held)
        else:
            loop.call_soon(release)

    def _release_held(self) -> None:
        held, self._held = self._held, []
        for release in held:
            release()

    def _open_soon(self) -> None:
        # The phase changes now, not when the task first runs, so the sender waits instead of failing.
        self._set_phase("opening")
        task = asyncio.create_task(self.open(), name="speaking-open")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self) -> None:
        # What waits and what is being sent go first, before the request: a line sent while the flush is
        # out would be spoken after it. Dropped lines keep their text for /resend if the flush fails.
        self._drop_local("flushed", "flushed before it was sent")
        self._abandon_in_flight("flushed", "flushed while its request was still out (it may have been queued)")
        if self.speaking is None or self.phase != "active":
            self._emit(Notice("warning", "no active speaking stream to flush"))
            return
        try:
            await self._client.flush(self.speaking.id)
        except VoipbinError as exc:
            self._emit(_notice("flush failed", exc))
            await self._refresh()
            return
        self._cut_playback("flushed")
        self._emit(Notice("info", "flushed: playback cut and queue cleared"))

    async def stop(self) -> None:
        """Stop the stream (VoIPBIN cannot resume it; /speak opens a new one)."""
        self._abandon_in_flight("flushed", "the stream was stopped while its request was still out")
        self._drop_local("flushed", "stream stopped before it was sent")
        if self.speaking is None or self.phase in ("stopped", "closed"):
            self._emit(Notice("warning", "no speaking stream to stop"))
            return
        self._set_phase("stopping")
        try:
            speaking = await self._client.stop_speaking(self.speaking.id)
        except VoipbinError as exc:
            self._emit(_notice("stop failed", exc))
            await self._refresh()
            return
        self._cut_playback("stopped")
        self._adopt(speaking)
        if self.phase != "stopped":
            self._set_phase("stopped", "stopped")

    async def call_ended(self) -> None:
        """The call hung up: fail what was never sent, then delete our streams (VoIPBIN won't stop them).

        Safe to call more than once and concurrently (the hangup event and closing the session both
        do): the clean-up runs once and every caller waits for it.
        """
        if self._ending is None:
            self._ending = asyncio.ensure_future(self._end())
        await asyncio.shield(self._ending)

    async def _end(self) -> None:
        self._call_live = False
        self._drop_local("failed", "the call ended before this line was sent")
        self._stop_poller()
        for task in list(self._tasks):
            task.cancel()
        creating = self._creating
        if creating is not None and not creating.done():
            # Its failure is reported where it was awaited; here only its stream matters.
            with contextlib.suppress(Exception):
                await asyncio.shield(creating)
        problems = []
        for sid in list(self._owned):
            try:
                # DELETE stops an active stream itself (README §4.17): one request, not three.
                current = await self._client.delete_speaking(sid)
            except VoipbinError as exc:
                if exc.http_status != 404:
                    problems.append(exc.message or str(exc))
                    continue
                current = None
            self._owned.remove(sid)
            if current is not None and self.speaking is not None and self.speaking.id == sid:
                self.speaking = current
        if problems:
            self._set_phase("closed", "cleanup failed: " + "; ".join(problems))
        elif self.speaking is not None and not self.ours:
            self._set_phase("closed", "left running (not opened by us)")
        else:
            self._set_phase("closed", "stopped and deleted" if self.speaking is not None else "")

    async def close(self) -> None:
        self._closed = True
        self._stop_poller()
        pending = [t for t in (self._sender, *self._tasks) if t is not None]
        self._sender = None
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # -- internals --------------------------------------------------------------------------------------

    def _set_item(
        self,
        item: SayItem,
        state: str,
        error: str | None = None,
        hint: str | None = None,
        request_id: str | None = None,
    ) -> None:
        item.state = state  # type: ignore[assignment]
        if error is not None:
            item.error = error
        if hint is not None:
            item.hint = hint
        if request_id is not None:
            item.request_id = request_id
        self._record(
            "say",
            id=item.id,
            state=item.state,
            error=item.error,
            request_id=item.request_id,
            latency_ms=item.latency_ms,
        )
        self._emit(SayUpdated(item))

    def _drop_local(self, state: str, why: str) -> None:
        waiting = [self._parked] if self._parked is not None else []
        while not self._queue.empty():
            waiting.append(self._queue.get_nowait())
        for item in waiting:
            if item.state == "queued":
                self._set_item(item, state, error=why)

    def _cut_playback(self, why: str) -> None:
        """Flush/stop cut what may still be playing; lines whose audio is surely over stay as they are."""
        for item in self.ledger.maybe_playing(time.monotonic()):
            self._set_item(item, "flushed", error=f"{why} while it may still have been playing")

    async def _send_loop(self) -> None:
        while True:
            item = await self._queue.get()
            self._parked = item
            try:
                while item.state == "queued" and self.phase != "active":
                    if self.phase in ("stopped", "closed", "failed"):
                        why = "the call is not live" if not self._call_live else f"the speaking stream is {self.phase}"
                        self._set_item(
                            item,
                            "failed",
                            error=why,
                            hint="/speak opens a new stream, then /resend (or ↑ Enter) sends this line again"
                            if self._call_live
                            else "start a new call",
                        )
                        break
                    self._phase_changed.clear()
                    await self._phase_changed.wait()
            finally:
                self._parked = None
            # A flush or stop while it waited has already settled it.
            if item.state == "queued" and self.phase == "active":
                await self._send(item)

    async def _send(self, item: SayItem) -> None:
        assert self.speaking is not None
        item.speaking_id = self.speaking.id
        sent_mono = item.posted_mono = time.monotonic()
        self._in_flight = item
        task = asyncio.ensure_future(self._client.say(self.speaking.id, item.text, on_sent=self._on_request_written))
        self._say_task = task
        try:
            # Waited on, not awaited: a flush cancelling the request must not look like our own cancellation.
            await asyncio.wait({task})
        except asyncio.CancelledError:
            task.cancel()
            raise
        finally:
            self._say_task = None
        try:
            if task.cancelled():
                self._in_flight = None
                self._release_held()
                state, why = self._abandoned
                self._set_item(item, state, error=why)
                return
            task.result()
        except Exception as exc:
            self._in_flight = None
            self._release_held()
            if not isinstance(exc, VoipbinError):
                log.exception("say failed unexpectedly")
                self._set_item(item, "failed", error=f"{type(exc).__name__}: {exc}", hint="see the log; /resend")
                return
            hint = exc.hint()
            if exc.http_status == 404:
                hint = "the stream is gone (stopped, or the call ended): /speak opens a new one, then /resend"
            self._set_item(item, "failed", error=exc.message or str(exc), hint=hint, request_id=exc.request_id)
            if exc.http_status == 404:
                await self._refresh()
            return
        self._in_flight = None
        self._release_held()
        item.sent_mono = sent_mono
        item.sent_at = time.time()
        self._set_item(item, "sent")
        if item.heard_mono is not None:
            # Its transcript came before the answer to /say did (see SayLedger.match_transcript).
            self._set_item(item, "heard")

    def _abandon_in_flight(self, state: str, why: str) -> None:
        task = self._say_task
        if task is not None and not task.done():
            self._abandoned = (state, why)
            task.cancel()

    def _on_request_written(self) -> None:
        item = self._in_flight
        self._release_held()
        if item is not None and item.state == "queued":
            self._set_item(item, "sending")

    async def _refresh(self) -> None:
        if self.speaking is None:
            return
        sid, phase = self.speaking.id, self.phase
        try:
            speaking = await self._client.get_speaking(sid)
        except VoipbinError as exc:
            if exc.http_status == 404 and self._still(sid, phase):
                self._set_phase("stopped", "the stream no longer exists")
            return
        # A reopen or stop while the poll was out has made its answer stale.
        if self._still(sid, phase):
            self._adopt(speaking)

    def _still(self, sid: str, phase: SpeakingPhase) -> bool:
        return self.speaking is not None and self.speaking.id == sid and self.phase == phase

    def _ensure_poller(self) -> None:
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll_loop(), name="speaking-poll")

    def _stop_poller(self) -> None:
        task, self._poller = self._poller, None
        if task is not None:
            task.cancel()

    async def _poll_loop(self) -> None:
        while self._call_live and not self._closed:
            await asyncio.sleep(self.options.poll_interval)
            if self.phase in ("opening", "stopping"):
                continue
            await self._refresh()


def _notice(what: str, exc: VoipbinError) -> Notice:
    return Notice("error", f"{what}: {exc}", hint=exc.hint(), request_id=exc.request_id, reason=exc.reason)
