"""Follow every call of an account and describe each change as one JSON object (``voipbin-tui watch``).

Each transcript is printed exactly once: duplicates from the channel are skipped, and after a
reconnect the transcripts of every transcribe seen so far are re-read from REST and only the new ones
printed (VoIPBIN does not replay what a dropped socket missed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from tui.session.account import Account
from tui.session.recovery import GAP_MARGIN_S, Recovered, Recoverer
from tui.voipbin.errors import VoipbinError
from tui.voipbin.events import ConnectionState, Event
from tui.voipbin.models import Call, Transcribe, Transcript, call_supersedes

log = logging.getLogger(__name__)

Emit = Callable[[dict[str, Any]], None]

# Bounded memories: a watcher may run for days.
_MAX_IDS = 200_000
_MAX_TRACKED = 5_000


class _LRU(OrderedDict[str, Any]):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: str, value: Any = None) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.limit:
            self.popitem(last=False)


class AccountWatcher:
    """Turns an Account's events into watch lines; call ``attach()`` once, then let it run."""

    def __init__(self, account: Account, emit: Emit) -> None:
        self.account = account
        self._emit = emit
        self._printed_transcripts = _LRU(_MAX_IDS)
        self._transcribes = _LRU(_MAX_TRACKED)  # id -> Transcribe
        self._calls = _LRU(_MAX_TRACKED)  # id -> Call (latest applied)
        self._backfill_lock = asyncio.Lock()
        self._recoverer = Recoverer(account.client)
        self._tasks: set[asyncio.Task[None]] = set()
        self.lines = 0

    def attach(self) -> None:
        self.account.listen(self.on_event, self.on_connection)

    # -- events -----------------------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        if event.duplicate:
            return
        if event.kind == "unrecognised":
            self._out(
                {
                    "kind": "unrecognised",
                    "event": event.event,
                    "reason": event.reason,
                    "shape": event.shape,
                    "raw": event.raw,
                }
            )
            return
        if event.transcript is not None:
            self._transcript(event.transcript, event)
            return
        if event.transcribe is not None:
            self._transcribes.put(event.transcribe.id, event.transcribe)
        if event.call is not None:
            self._remember_call(event.call)
        self._out(_line(event.kind, event.event, event.data))

    def _transcript(self, tr: Transcript, event: Event | None, *, backfilled: bool = False) -> bool:
        if tr.id in self._printed_transcripts:
            return False
        self._printed_transcripts.put(tr.id)
        data = event.data if event is not None else tr.model_dump(mode="json")
        line = _line("transcript", "transcript_created", data)
        if backfilled:
            line["backfilled"] = True
        self._out(line)
        return True

    def _remember_call(self, call: Call) -> bool:
        prev = self._calls.get(call.id)
        if prev is not None and not call_supersedes(call, prev):
            return False
        self._calls.put(call.id, call)
        return True

    # -- connection -------------------------------------------------------------------------------------

    def on_connection(self, state: ConnectionState) -> None:
        if state.state == "connecting":
            return
        line: dict[str, Any] = {"kind": "connection", "state": state.state, "at": _iso(state.at)}
        if state.attempt:
            line["attempt"] = state.attempt
        if state.delay is not None:
            line["delay"] = round(state.delay, 3)
        if state.error:
            line["error"] = state.error
        self._out(line)
        if state.state == "reconnected":
            task = asyncio.create_task(self.backfill(state), name="watch-backfill")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def backfill(self, state: ConnectionState) -> None:
        """After a reconnect: calls, transcribes and transcripts the outage hid, each printed once."""
        async with self._backfill_lock:
            started = state.gap_started or state.at
            ended = state.gap_ended or state.at
            recovered = {"transcripts": 0, "calls": 0, "transcribes": 0}
            # Calls that were live, and calls created while the socket was down.
            live = [c.id for c in self._calls.values() if c.status != "hangup"]
            try:
                missed = await self._recoverer.recover(
                    call_ids=live,
                    transcribe_ids=[tid for tid, tr in self._transcribes.items() if _may_have_grown(tr, started)],
                    since=started,
                    new_calls_since=started - GAP_MARGIN_S,
                )
            except VoipbinError as exc:
                missed = Recovered(errors=[str(exc)])
            for call in missed.calls.values():
                if self._remember_call(call):
                    recovered["calls"] += 1
                    self._out(_line("call", _call_event(call), call.model_dump(mode="json"), backfilled=True))
            for tr in missed.transcribes.values():
                if tr.id not in self._transcribes:
                    recovered["transcribes"] += 1
                    self._out(_line("transcribe", _transcribe_event(tr), tr.model_dump(mode="json"), backfilled=True))
                self._transcribes.put(tr.id, tr)
            for item in missed.transcripts:
                if self._transcript(item, None, backfilled=True):
                    recovered["transcripts"] += 1
            gap: dict[str, Any] = {
                "kind": "gap",
                "started": _iso(started),
                "ended": _iso(ended),
                "seconds": round(max(0.0, ended - started), 3),
                "recovered": recovered,
                "via": missed.via,
            }
            if missed.errors:
                gap["errors"] = missed.errors[:5]
            self._out(gap)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _out(self, line: dict[str, Any]) -> None:
        self.lines += 1
        self._emit(line)


def _line(kind: str, event: str, data: dict[str, Any], *, backfilled: bool = False) -> dict[str, Any]:
    line: dict[str, Any] = {"kind": kind, "event": event, "id": data.get("id")}
    for key, value in data.items():
        if key not in line:
            line[key] = value
    if backfilled:
        line["backfilled"] = True
    return line


def _may_have_grown(tr: Transcribe, since: float) -> bool:
    """A transcribe that ended before ``since`` cannot have produced a transcript after it."""
    return not (tr.status == "done" and tr.tm_update is not None and tr.tm_update.timestamp() < since)


def _call_event(call: Call) -> str:
    if call.tm_delete is not None:
        return "call_deleted"
    return {"dialing": "call_created"}.get(call.status, f"call_{call.status}")


def _transcribe_event(tr: Transcribe) -> str:
    return "transcribe_done" if tr.status == "done" else "transcribe_created"


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int((ts % 1) * 1e6):06d}Z"
