"""Closing a connection gap: after a reconnect, read back what the outage hid and mark the gap.

The read-back itself is ``Recoverer`` (shared with ``watch``); this applies it to one call through the
same idempotent paths as live events, so nothing shows twice, and adds the gap line to the transcript.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tui.session.notices import error_notice
from tui.session.recovery import Recovered
from tui.session.updates import GapRecovered
from tui.voipbin.errors import VoipbinError
from tui.voipbin.events import ConnectionState

if TYPE_CHECKING:
    from tui.session.call_session import CallSession


class GapBackfill:
    """Reacts to the account's connection states: records them, and backfills after a reconnect."""

    def __init__(self, session: CallSession) -> None:
        self.session = session
        # Two quick reconnects must not backfill at once: the second waits and finds little left.
        self._lock = asyncio.Lock()

    def on_connection(self, state: ConnectionState) -> None:
        s = self.session
        s.record(
            "connection", state=state.state, attempt=state.attempt, delay=state.delay, error=state.error, flush=True
        )
        if state.state == "reconnected" and not s.closed and s.phase in ("live", "ended"):
            s.spawn(self._backfill(state), "backfill")

    async def _backfill(self, state: ConnectionState) -> None:
        """Re-read what the outage may have hidden and mark the gap in the transcript."""
        s = self.session
        async with self._lock:
            started = state.gap_started or state.at
            ended = state.gap_ended or state.at
            recovered = {"status": 0, "transcripts": 0}
            error: str | None = None
            try:
                missed = await s.recoverer.recover(
                    call_ids=list(s.call_ids),
                    groupcall_ids=[s.groupcall.id] if s.groupcall is not None else [],
                    transcribe_ids=list(s.transcribes),
                    since=started,
                )
            except VoipbinError as exc:
                error = str(exc)
                s.emit(error_notice("backfill after reconnect failed", exc))
            else:
                recovered["status"] += self._apply_recovered(missed)
                now = time.monotonic()
                for item in missed.transcripts:
                    if s.transcription.apply_transcript(item, arrived_mono=now, backfilled=True):
                        recovered["transcripts"] += 1
                if missed.errors:
                    error = missed.errors[0]
                if recovered["transcripts"]:
                    s.transcription.heard()
                s.record("recovered", via=missed.via, errors=len(missed.errors))
            gap = GapRecovered(started, ended, recovered, error)
            s.gaps.append(gap)
            text = (
                f"connection lost for {gap.seconds:.1f}s — recovered {recovered['transcripts']} transcript(s)"
                f", {recovered['status']} status change(s)"
            )
            if error:
                text += " (backfill incomplete)"
            s.patch(
                s.book.add_line(
                    key=f"g:{len(s.gaps)}",
                    kind="gap",
                    text=text,
                    at=datetime.fromtimestamp(started, UTC),
                    meta={"recovered": recovered, "error": error},
                )
            )
            s.record("gap", started=started, ended=ended, recovered=recovered, error=error, flush=True)
            s.emit(gap)

    def _apply_recovered(self, missed: Recovered) -> int:
        """Apply read-back state; returns how many status changes it brought."""
        s = self.session
        changes = 0
        for gc in missed.groupcalls.values():
            if s.groupcall is not None and gc.id == s.groupcall.id:
                before = s.groupcall.status
                s.leg_tracker.apply_groupcall(gc)
                changes += int(s.groupcall.status != before)
        for call in missed.calls.values():
            if call.id in s.call_ids and s.leg_tracker.apply_call(call):
                changes += 1
        for tr in missed.transcribes.values():
            if tr.reference_id in s.legs:
                s.transcription.apply_transcribe(tr)
        return changes
