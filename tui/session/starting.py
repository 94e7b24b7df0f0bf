"""Starting a session's call: dialling a new one, or attaching to one that is already running.

Either way the ids become known only after a request, so events that arrived meanwhile are replayed
from the account's recent events (``catch_up``). A failure is reported once, kept as the session's
``failure`` for the dial form, and raised.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

from tui.session.dial import DialRequest
from tui.session.notices import error_notice, said
from tui.session.updates import Notice
from tui.voipbin.errors import VoipbinError
from tui.voipbin.models import Call

if TYPE_CHECKING:
    from tui.session.call_session import CallSession


class CallStarter:
    """Dials or attaches for the session, then hands the call over to the leg tracker."""

    def __init__(self, session: CallSession) -> None:
        self.session = session

    async def dial(self, request: DialRequest) -> None:
        s = self.session
        if s.phase != "idle":
            raise RuntimeError("a session dials once; start a new session for a new call")
        problems = request.problems()
        if problems:
            self._fail(Notice("error", "cannot dial: " + "; ".join(problems)), "; ".join(problems))
            raise ValueError("; ".join(problems))
        s.dial_request = request
        s.language = request.language
        s.set_phase("dialing", request.destination)
        body = request.body()
        s.record("dial", body=body, flush=True)
        since = time.time() - 1.0
        try:
            result = await s.client.create_call(body["source"], body["destinations"], body["actions"])
        except VoipbinError as exc:
            self._fail(await self._dial_failure_notice(request, exc), str(exc))
            raise
        for gc in result.groupcalls[:1]:
            s.leg_tracker.apply_groupcall(gc)
        for call in result.calls:
            s.leg_tracker.apply_call(call)
        for cid in result.call_ids:
            if cid not in s.legs:
                s.pending_legs.add(cid)
                s.claim(cid)
        s.set_phase("live")
        s.catch_up(since, ids=s.known_ids)
        s.spawn(s.leg_tracker.await_legs(), "await-legs")

    def _fail(self, notice: Notice, detail: str) -> None:
        s = self.session
        s.failure = notice
        s.emit(notice)
        s.set_phase("failed", detail)

    async def attach(self, call_id: str) -> None:
        s = self.session
        if s.phase != "idle":
            raise RuntimeError("a session attaches once")
        s.set_phase("dialing", f"attaching to {call_id}")
        s.leg_tracker.attaching = True
        s.speech.adopted_streams_are_ours = False
        since = time.time() - 1.0
        try:
            call = await s.client.get_call(call_id)
        except VoipbinError as exc:
            if exc.http_status != 404:
                self._fail(error_notice("cannot attach", exc), str(exc))
                raise
            try:
                gc = await s.client.get_groupcall(call_id)
            except VoipbinError:
                self._fail(error_notice(f"no call or groupcall {call_id}", exc), str(exc))
                raise exc from None
            s.leg_tracker.apply_groupcall(gc)
            for cid in gc.call_ids:
                with contextlib.suppress(VoipbinError):
                    s.leg_tracker.apply_call(await s.client.get_call(cid))
        else:
            s.leg_tracker.apply_call(call)
        s.set_phase("live")
        s.catch_up(since, ids=s.known_ids)
        main = s.call
        if main is not None:
            await s.transcription.load_transcribes([main.id], backfilled=False)
            await self._adopt_speaking(main)
        s.leg_tracker.attaching = False
        main = s.call
        if main is not None:
            s.leg_tracker.main_call_changed(main)

    async def _adopt_speaking(self, call: Call) -> None:
        s = self.session
        if call.status != "progressing":
            return
        try:
            page = await s.client.list_speakings(page_size=100)
        except VoipbinError:
            return
        for sp in page.result:
            if sp.reference_id == call.id and sp.status in ("active", "initiating") and sp.tm_delete is None:
                s.speech.adopt_existing(sp, call.id)
                return

    async def _dial_failure_notice(self, request: DialRequest, exc: VoipbinError) -> Notice:
        hint = exc.hint()
        if request.kind == "extension" and exc.http_status == 500:
            hint = "is the softphone registered? dial by the extension, not the name"
            with contextlib.suppress(VoipbinError):
                for ext in await self.session.account.extensions():
                    if ext.name == request.destination and ext.extension != request.destination:
                        hint = (
                            f"{request.destination!r} is an extension's name: dial its extension "
                            f"{ext.extension!r} instead"
                        )
                        break
        return Notice("error", f"dial failed: {said(exc)}", hint=hint, request_id=exc.request_id, reason=exc.reason)
