"""Following a call's legs and its groupcall: which updates count, which leg is the call, when all are over.

A dial to an extension or a group makes a groupcall whose legs appear (as records and events) a moment
after POST /calls, in any order. Updates are applied by rank (``call_supersedes``) so that replaying
recent events or a reconnect's read-back never moves a leg backwards.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tui.session.updates import CallUpdated
from tui.voipbin.errors import VoipbinError
from tui.voipbin.models import Call, Groupcall, call_supersedes, is_nil

if TYPE_CHECKING:
    from tui.session.call_session import CallSession

log = logging.getLogger(__name__)

# How long to wait for an event before asking REST for a groupcall leg's record.
LEG_GRACE_S = 1.5

_GC_RANK = {"progressing": 0, "hangingup": 1, "hangup": 2}


def _gc_rank(gc: Groupcall) -> tuple[int, int]:
    return (_GC_RANK.get(gc.status, -1), 0 if is_nil(gc.answer_call_id) else 1)


def timestamp(value: datetime | None) -> float:
    """A sort key for optional VoIPBIN times (missing ones sort first)."""
    return value.timestamp() if value is not None else 0.0


class LegTracker:
    """Applies call and groupcall updates to the session's ``legs`` / ``groupcall`` and reacts to the
    main leg's status (answered: start speaking and look for the transcribe; hung up: finish)."""

    def __init__(self, session: CallSession) -> None:
        self.session = session
        # Set by the first answer: later progressing updates must not reopen the stream or restart the watch.
        self.answer_handled = False
        # While attaching, an existing speaking stream must be found before auto-open would create one.
        self.attaching = False

    def main_call(self) -> Call | None:
        """The call the user cares about: the answered leg, else the only (or most advanced) leg."""
        s = self.session
        if s.main_call_id and s.main_call_id in s.legs:
            return s.legs[s.main_call_id]
        if not s.legs:
            return None
        return max(s.legs.values(), key=lambda c: (c.rank, timestamp(c.tm_update or c.tm_create)))

    async def await_legs(self) -> None:
        """A groupcall leg's record appears just after POST /calls; fetch it if no event brought it."""
        s = self.session
        delay = LEG_GRACE_S
        for _ in range(5):
            await asyncio.sleep(delay)
            missing = [cid for cid in s.pending_legs if cid not in s.legs]
            if not missing or not s.is_live:
                return
            for cid in missing:
                try:
                    self.apply_call(await s.client.get_call(cid))
                except VoipbinError as exc:
                    if exc.http_status != 404:
                        log.info("leg %s not readable yet: %s", cid, exc)
            delay *= 2

    def apply_call(self, call: Call) -> bool:
        s = self.session
        if is_nil(call.id):
            return False
        prev = s.legs.get(call.id)
        if prev is not None and not call_supersedes(call, prev):
            return False
        s.legs[call.id] = call
        s.pending_legs.discard(call.id)
        if prev is None:
            s.claim(call.id)
        if prev is None and s.ending.hangup_requested and call.status in ("dialing", "ringing", "progressing"):
            s.spawn(s.ending.hang_up_leg(call.id), "hangup-late-leg")
        if s.main_call_id is None and (len(s.call_ids) == 1 or call.status == "progressing"):
            s.main_call_id = call.id
        s.record(
            "call",
            id=call.id,
            status=call.status,
            action=call.action_type,
            hangup_by=call.hangup_by or None,
            hangup_reason=call.hangup_reason or None,
            flush=True,
        )
        s.emit(CallUpdated(s.call, dict(s.legs), s.groupcall))
        if s.main_call_id == call.id:
            self.main_call_changed(call)
        elif self.all_legs_over():
            s.spawn(s.ending.finish(), "finish")
        return True

    def main_call_changed(self, call: Call) -> None:
        s = self.session
        if s.answered_mono is None and (call.status == "progressing" or call.tm_progressing is not None):
            s.answered_mono = time.monotonic()
            if call.tm_progressing is not None:
                # Attach mode: the call was answered before we arrived.
                ago = (datetime.now(UTC) - call.tm_progressing).total_seconds()
                if ago > 1.0:
                    s.answered_mono -= ago
        if call.action_type == "talk" and call.status == "progressing":
            s.stall.expect(time.monotonic(), "the greeting is playing")
        if call.status == "progressing" and not self.answer_handled and not self.attaching:
            self.answer_handled = True
            s.spawn(s.transcription.watch_stall(), "transcription-quiet")
            s.speech.call_answered(call.id, s.language)
            s.transcription.look_for_transcribe(call.id)
        if call.is_hungup:
            s.spawn(s.ending.finish(), "finish")

    def all_legs_over(self) -> bool:
        s = self.session
        if s.pending_legs or not s.legs:
            return False
        return all(c.is_hungup for c in s.legs.values())

    def apply_groupcall(self, gc: Groupcall) -> None:
        s = self.session
        if s.groupcall is not None and gc.id != s.groupcall.id:
            return
        prev = s.groupcall
        if prev is not None and _gc_rank(gc) < _gc_rank(prev):
            return
        s.groupcall = gc
        fresh = {cid for cid in gc.call_ids if not is_nil(cid) and cid not in s.call_ids}
        s.pending_legs |= fresh
        s.claim(gc.id, *fresh)
        if fresh and prev is not None:
            s.catch_up(s.started_at - 1.0, lambda e: e.call is not None and e.call.id in fresh, ids=fresh)
        answered = gc.answered_call_id
        if answered and s.main_call_id != answered:
            s.main_call_id = answered
            main = s.legs.get(answered)
            if main is not None:
                self.main_call_changed(main)
        s.record("groupcall", id=gc.id, status=gc.status, answer_call_id=answered, call_ids=gc.call_ids)
        s.emit(CallUpdated(s.call, dict(s.legs), s.groupcall))
        if gc.status == "hangup" and s.pending_legs:
            # A leg without a record by now was cancelled with the groupcall and will never exist.
            s.pending_legs.clear()
            if not s.legs or self.all_legs_over():
                s.spawn(s.ending.finish(), "finish")
