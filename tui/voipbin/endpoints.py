"""VoIPBIN's resources as client methods: numbers, extensions, calls, groupcalls (speakings and transcribes
are in ``media_endpoints.py``).

Each method is one REST call on the transport of :class:`tui.voipbin.rest.VoipbinClient` (credentials,
retries, request records, decoding), which is the only class that mixes this in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tui.voipbin.endpoint_base import body_of, seg
from tui.voipbin.media_endpoints import MediaEndpoints
from tui.voipbin.models import (
    Action,
    Address,
    AggregatedEvent,
    Call,
    CallCreateResult,
    Extension,
    Groupcall,
    Number,
    Page,
)


class VoipbinEndpoints(MediaEndpoints):
    """The resource methods; the transport methods are the client's (see ``EndpointBase``)."""

    # ------------------------------------------------------------------ numbers, extensions

    async def list_numbers(self, page_size: int = 100, page_token: str | None = None) -> Page[Number]:
        return await self._get("/numbers", Page[Number], self._page_params(page_size, page_token))

    async def all_numbers(self, limit: int = 1000) -> list[Number]:
        return await self._collect(lambda size, tok: self.list_numbers(size, tok), limit)

    async def list_extensions(self, page_size: int = 100, page_token: str | None = None) -> Page[Extension]:
        return await self._get("/extensions", Page[Extension], self._page_params(page_size, page_token))

    async def all_extensions(self, limit: int = 1000) -> list[Extension]:
        return await self._collect(lambda size, tok: self.list_extensions(size, tok), limit)

    # ------------------------------------------------------------------ calls

    async def create_call(
        self,
        source: Mapping[str, Any] | Address,
        destinations: Sequence[Mapping[str, Any] | Address],
        actions: Sequence[Mapping[str, Any] | Action] | None = None,
        flow_id: str | None = None,
        **extra: Any,
    ) -> CallCreateResult:
        """``POST /calls``. Never retried on 5xx or transport errors (the call may exist).

        Extension destinations give ``groupcalls`` (leg ids in ``call_ids``), tel/sip give ``calls``.
        """
        body: dict[str, Any] = {"source": body_of(source), "destinations": [body_of(d) for d in destinations]}
        if actions is not None:
            body["actions"] = [body_of(a) for a in actions]
        if flow_id is not None:
            body["flow_id"] = flow_id
        body.update(extra)
        return await self._send("POST", "/calls", CallCreateResult, body)

    async def list_calls(self, page_size: int = 100, page_token: str | None = None) -> Page[Call]:
        return await self._get("/calls", Page[Call], self._page_params(page_size, page_token))

    async def get_call(self, call_id: str) -> Call:
        return await self._get(f"/calls/{seg(call_id)}", Call)

    async def hangup_call(self, call_id: str) -> Call:
        """``POST /calls/{id}/hangup``: returns the call as updated by the request (canceling/terminating)."""
        return await self._send("POST", f"/calls/{seg(call_id)}/hangup", Call)

    async def delete_call(self, call_id: str) -> Call:
        return await self._send("DELETE", f"/calls/{seg(call_id)}", Call)

    async def get_groupcall(self, groupcall_id: str) -> Groupcall:
        return await self._get(f"/groupcalls/{seg(groupcall_id)}", Groupcall)

    async def list_groupcalls(self, page_size: int = 100, page_token: str | None = None) -> Page[Groupcall]:
        return await self._get("/groupcalls", Page[Groupcall], self._page_params(page_size, page_token))

    async def hangup_groupcall(self, groupcall_id: str) -> Groupcall:
        """``POST /groupcalls/{id}/hangup``: hangs up every leg, also one whose record does not exist yet."""
        return await self._send("POST", f"/groupcalls/{seg(groupcall_id)}/hangup", Groupcall)

    async def delete_groupcall(self, groupcall_id: str) -> Groupcall:
        return await self._send("DELETE", f"/groupcalls/{seg(groupcall_id)}", Groupcall)

    async def list_aggregated_events(
        self,
        *,
        call_id: str | None = None,
        activeflow_id: str | None = None,
        page_size: int = 100,
        page_token: str | None = None,
    ) -> Page[AggregatedEvent]:
        """``GET /aggregated-events`` for one call or activeflow (exactly one), newest first."""
        extra = {"call_id": call_id, "activeflow_id": activeflow_id}
        return await self._get(
            "/aggregated-events", Page[AggregatedEvent], self._page_params(page_size, page_token, extra)
        )
