"""Groupcalls: ``GET /groupcalls``, ``POST /groupcalls/{id}/hangup`` and ``DELETE /groupcalls/{id}``.

A hangup marks the groupcall ``hangingup`` and hangs up every leg; a leg whose call record does not exist
yet (the extension is still being dialled) is never created. The groupcall becomes ``hangup`` (event
``groupcall_hangup``) once no leg is left. This is the only way to cancel an extension call in the moment
before its leg record exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.sandbox import errors
from tui.sandbox.models import Groupcall

if TYPE_CHECKING:
    from tui.sandbox.core import SandboxCore


class GroupcallService:
    def __init__(self, core: SandboxCore) -> None:
        self.core = core

    def get(self, groupcall_id: str) -> Groupcall:
        groupcall = self.core.store.groupcalls.get(groupcall_id)
        if groupcall is None:
            raise errors.groupcall_not_found()
        return groupcall

    def live(self, groupcall_id: str) -> Groupcall:
        """A groupcall that may be acted on (a soft-deleted one is STATE_INVALID, as calls are)."""
        groupcall = self.get(groupcall_id)
        if groupcall.tm_delete is not None:
            raise errors.state_invalid()
        return groupcall

    def hangup(self, groupcall: Groupcall) -> Groupcall:
        """Returns the groupcall as the request left it (``hangingup``, or ``hangup`` if no leg was live)."""
        if groupcall.status in ("hangingup", "hangup"):
            return groupcall
        groupcall.status = "hangingup"
        groupcall.tm_update = self.core.store.stamp()
        for call_id in list(groupcall.call_ids):
            call = self.core.store.calls.get(call_id)
            if call is None:
                # Its record was never created and now never will be (see CallEngine._create_leg).
                self.leg_gone(groupcall)
            elif call.status != "hangup":
                self.core.calls.hangup_local(call)
        return groupcall

    def delete(self, groupcall: Groupcall) -> Groupcall:
        if groupcall.tm_delete is not None:
            return groupcall
        if groupcall.status != "hangup":
            self.hangup(groupcall)
        now = self.core.store.stamp()
        groupcall.tm_delete = now
        groupcall.tm_update = now
        self.core.publish("groupcall_deleted", groupcall.to_json())
        return groupcall

    def leg_gone(self, groupcall: Groupcall) -> None:
        """One leg ended (or will never exist); the last one ends the groupcall."""
        if groupcall.status == "hangup":
            return
        groupcall.call_count = max(0, groupcall.call_count - 1)
        if groupcall.call_count == 0:
            groupcall.status = "hangup"
            groupcall.tm_update = self.core.store.stamp()
            self.core.publish("groupcall_hangup", groupcall.to_json())
