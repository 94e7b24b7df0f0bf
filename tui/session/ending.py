"""Ending a call: hanging up (the groupcall or its legs), finishing when VoIPBIN says it is over, and
the summary.

The summary is published when the call ends and again whenever a late transcript or the transcribe's
end changes what it counts, so it is always the latest word on the call.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from tui.session.notices import error_notice
from tui.session.says import percentile
from tui.session.updates import CallEnded, CallSummary, Notice
from tui.voipbin.errors import VoipbinError

if TYPE_CHECKING:
    from tui.session.call_session import CallSession

log = logging.getLogger(__name__)


class CallEnding:
    """Hangs the call up, finishes the session when the call is over, and makes its summary."""

    def __init__(self, session: CallSession) -> None:
        self.session = session
        # Once set, a leg that shows up later is hung up as soon as it appears.
        self.hangup_requested = False

    async def hangup(self) -> None:
        s = self.session
        gc = s.groupcall
        if gc is not None and not s.legs and gc.status == "progressing":
            # No leg record exists yet (the extension is still being dialled): only the groupcall's
            # hangup reaches a leg that does not exist yet, so the call is never left ringing.
            s.record("hangup", groupcall=gc.id, flush=True)
            self.hangup_requested = True
            try:
                s.leg_tracker.apply_groupcall(await s.client.hangup_groupcall(gc.id))
                return
            except VoipbinError as exc:
                if exc.http_status not in (404, 405, 501):
                    s.emit(error_notice("hangup failed", exc))
                    return
                log.info("groupcall hangup not available (%s); hanging up the legs", exc.http_status)
        targets = [s.main_call_id] if s.main_call_id else list(s.call_ids)
        targets = [t for t in targets if t and not (t in s.legs and s.legs[t].is_hungup)]
        if not targets:
            s.emit(Notice("info", "the call has already ended"))
            return
        s.record("hangup", targets=targets, flush=True)
        # A groupcall leg whose record does not exist yet answers 404; it is hung up as soon as it appears.
        self.hangup_requested = True
        for cid in targets:
            await self.hang_up_leg(cid)

    async def hang_up_leg(self, cid: str) -> None:
        s = self.session
        try:
            s.leg_tracker.apply_call(await s.client.hangup_call(cid))
        except VoipbinError as exc:
            if exc.http_status == 404 and cid in s.pending_legs:
                return
            s.emit(error_notice("hangup failed", exc))

    async def finish(self) -> None:
        s = self.session
        if s.phase == "ended":
            return
        s.ended_mono = time.monotonic()
        s.set_phase("ended", self._hangup_text())
        s.patch(s.book.clear_all_interim())
        # The summary does not wait for the clean-up's requests; the speaking stream's end shows by itself.
        self.publish_summary()
        await s.speech.call_ended()

    def _hangup_text(self) -> str:
        call = self.session.call
        if call is None:
            return ""
        return " ".join(p for p in (call.hangup_by, call.hangup_reason) if p)

    def publish_summary(self) -> None:
        s = self.session
        s.summary = self._make_summary()
        s.record("summary", **s.summary.as_dict(), flush=True)
        s.emit(CallEnded(s.summary))

    def _make_summary(self) -> CallSummary:
        s = self.session
        call = s.call
        duration: float | None = None
        if call is not None and call.tm_progressing is not None and call.tm_hangup is not None:
            duration = (call.tm_hangup - call.tm_progressing).total_seconds()
        elif s.answered_mono is not None:
            duration = s.elapsed_answered()
        elif call is not None:
            duration = 0.0
        lat = s.ledger.latencies_ms()
        items = s.ledger.items
        return CallSummary(
            call_id=call.id if call is not None else None,
            duration_s=duration,
            hangup_by=call.hangup_by if call is not None else "",
            hangup_reason=call.hangup_reason if call is not None else "",
            lines_in=s.book.final_count.get("in", 0),
            lines_out=s.book.final_count.get("out", 0),
            says_sent=sum(1 for i in items if i.sent_mono is not None),
            says_heard=sum(1 for i in items if i.heard_mono is not None),
            says_failed=sum(1 for i in items if i.state == "failed"),
            say_heard_p50_ms=percentile(lat, 50),
            say_heard_p95_ms=percentile(lat, 95),
            record_path=str(s.recorder.path) if s.recorder.path and s.recorder.active else None,
            gaps=len(s.gaps),
            record_incomplete=s.recorder.failed,
        )
