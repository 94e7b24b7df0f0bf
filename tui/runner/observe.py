"""What a scenario can expect things of: the call as the session reports it, on one clock.

The same log is fed by a live ``CallSession`` (monotonic time) and by a replayed record (virtual time),
so every expectation is evaluated by one piece of code whichever way the call arrived.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tui.session.updates import (
    CallUpdated,
    GapRecovered,
    Notice,
    SayUpdated,
    SessionUpdate,
    TranscribeUpdated,
    TranscriptUpdated,
)
from tui.voipbin.events import ConnectionState
from tui.voipbin.rest import RequestRecord


@dataclass(frozen=True, slots=True)
class SeenLine:
    direction: str
    text: str
    at: float
    id: str
    # When the event behind it was read off the event channel (``at`` is when the session applied it).
    arrived: float | None = None


@dataclass(frozen=True, slots=True)
class SeenState:
    status: str
    by: str
    reason: str
    at: float
    arrived: float | None = None


@dataclass(slots=True)
class SeenSay:
    id: str
    text: str
    state: str
    latency_ms: float | None
    at: float
    error: str | None = None
    # When its state last changed (the arrival of the transcript that made it heard, when one did).
    changed: float | None = None


@dataclass(frozen=True, slots=True)
class SeenConnection:
    state: str
    at: float
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SeenRequest:
    method: str
    path: str
    status: int | None
    reason: str | None
    error: str | None
    at: float


@dataclass(slots=True)
class CallLog:
    clock: Callable[[], float]
    lines: list[SeenLine] = field(default_factory=list)
    states: list[SeenState] = field(default_factory=list)
    says: dict[str, SeenSay] = field(default_factory=dict)
    connections: list[SeenConnection] = field(default_factory=list)
    requests: list[SeenRequest] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    gaps: list[GapRecovered] = field(default_factory=list)
    ended_at: float | None = None
    transcribes: dict[str, str] = field(default_factory=dict)
    version: int = 0
    last_change: float = 0.0
    # When the event the session is applying right now was read off the event channel (None outside one).
    arrival: Callable[[], float | None] | None = None
    _ids: set[str] = field(default_factory=set)
    _changed: asyncio.Event | None = None

    # -- feeding ------------------------------------------------------------------------------------------

    def arrived(self) -> float:
        """When the news being applied arrived: the event's arrival when an event brought it, else now."""
        at = self.arrival() if self.arrival is not None else None
        return self.clock() if at is None else at

    def on_update(self, update: SessionUpdate) -> None:
        now = self.clock()
        if isinstance(update, TranscriptUpdated):
            added = False
            for change in update.changes:
                line = change.line
                if line.kind != "transcript" or not line.transcript_id or line.transcript_id in self._ids:
                    continue
                self._ids.add(line.transcript_id)
                self.lines.append(SeenLine(line.direction, line.text, now, line.transcript_id, self.arrived()))
                added = True
            if not added:
                # Interim text (most of the frames of a call) is nothing an expectation reads: waking
                # every waiting step for it only costs the event loop.
                return
        elif isinstance(update, CallUpdated):
            call = update.call
            if call is not None and (not self.states or self.states[-1].status != call.status):
                self.note_state(call.status, call.hangup_by or "", call.hangup_reason or "", pulse=False)
        elif isinstance(update, SayUpdated):
            item = update.item
            self.note_say(item.id, item.text, item.state, item.latency_ms, item.error, pulse=False)
        elif isinstance(update, TranscribeUpdated):
            self.transcribes[update.transcribe.id] = update.transcribe.status
        elif isinstance(update, Notice):
            self.notices.append(update)
        elif isinstance(update, GapRecovered):
            self.gaps.append(update)
        self.pulse()

    def note_state(self, status: str, by: str, reason: str, *, pulse: bool = True) -> None:
        now = self.clock()
        self.states.append(SeenState(status, by, reason, now, self.arrived()))
        if status == "hangup" and self.ended_at is None:
            self.ended_at = now
        if pulse:
            self.pulse()

    def note_say(
        self,
        say_id: str,
        text: str,
        state: str,
        latency_ms: float | None,
        error: str | None = None,
        *,
        pulse: bool = True,
    ) -> None:
        seen = self.says.get(say_id)
        if seen is None:
            self.says[say_id] = SeenSay(say_id, text, state, latency_ms, self.clock(), error, self.arrived())
        else:
            if seen.state != state:
                seen.changed = self.arrived()
            seen.state, seen.latency_ms, seen.error = state, latency_ms, error
            if text:
                seen.text = text
        if pulse:
            self.pulse()

    def on_connection(self, state: ConnectionState) -> None:
        self.connections.append(SeenConnection(state.state, self.clock(), state.error))
        self.pulse()

    def on_request(self, record: RequestRecord) -> None:
        self.note_request(record.method, record.url, record.status, record.reason, record.error)

    def note_request(
        self, method: str, url: str, status: int | None, reason: str | None, error: str | None = None
    ) -> None:
        path = url.split("?", 1)[0]
        if "://" in path:
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        self.requests.append(SeenRequest(method.upper(), path, status, reason, error, self.clock()))
        self.pulse()

    # -- waiting --------------------------------------------------------------------------------------------

    def pulse(self) -> None:
        self.version += 1
        self.last_change = self.clock()
        if self._changed is not None:
            self._changed.set()

    async def changed(self, since_version: int, timeout: float) -> bool:
        """Wait for a change after ``since_version`` (True) or the timeout (False)."""
        if self.version != since_version:
            return True
        if timeout <= 0:
            return False
        event = self._changed = asyncio.Event()
        try:
            # asyncio.timeout, not wait_for: no extra task per wait (a step waits once per change).
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            return False
        return True

    # -- reading --------------------------------------------------------------------------------------------

    def settled(self, now: float, grace: float) -> bool:
        """The call is over and no more transcripts can come: its transcribes are done, or ``grace`` passed."""
        if self.ended_at is None:
            return False
        if self.transcribes and all(s == "done" for s in self.transcribes.values()):
            return True
        return now >= self.ended_at + grace

    @property
    def call_status(self) -> SeenState | None:
        return self.states[-1] if self.states else None

    def says_in_order(self) -> list[SeenSay]:
        return list(self.says.values())

    def summary(self) -> dict[str, Any]:
        return {
            "lines_in": sum(1 for ln in self.lines if ln.direction == "in"),
            "lines_out": sum(1 for ln in self.lines if ln.direction == "out"),
            "states": [s.status for s in self.states],
            "says": len(self.says),
            "gaps": len(self.gaps),
        }
