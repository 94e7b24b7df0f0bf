"""VoIPBIN's resources as client methods: numbers, extensions, calls, groupcalls, speakings, transcribes.

Each method is one REST call on the transport of :class:`tui.voipbin.rest.VoipbinClient` (credentials,
retries, request records, decoding), which is the only class that mixes this in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

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
    Speaking,
    Transcribe,
    Transcript,
)

_PAGE_MAX: Final = 100
_M = TypeVar("_M", bound=BaseModel)
_T = TypeVar("_T")


def _seg(value: str) -> str:
    """One path segment, quoted so an id can never change the path."""
    return quote(str(value), safe="")


def _body(value: Address | Action | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(value, Address):
        return value.to_request()
    if isinstance(value, Action):
        return value.model_dump(exclude_none=True, exclude_defaults=True)
    return dict(value)


class VoipbinEndpoints:
    """The resource methods; the transport methods below are the client's."""

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
        on_sent: Callable[[], None] | None = None,
        limit: int | None = None,
    ) -> Any:
        raise NotImplementedError

    @property
    def _list_limit(self) -> int | None:
        """The larger decoded-size cap of list endpoints (``None``: the client's default)."""
        return None

    def _parse(self, model: type[_M], data: Any, method: str, path: str) -> _M:
        raise NotImplementedError

    async def _get(self, path: str, model: type[_M], params: Mapping[str, str | int] | None = None) -> _M:
        # A page of up to 100 items may be larger than one resource.
        limit = self._list_limit if issubclass(model, Page) else None
        data = await self._request("GET", path, params=params, limit=limit)
        return self._parse(model, data, "GET", path)

    async def _send(self, method: str, path: str, model: type[_M], body: Any = None) -> _M:
        data = await self._request(method, path, json_body=body)
        return self._parse(model, data, method, path)

    @staticmethod
    def _page_params(
        page_size: int | None, page_token: str | None, extra: Mapping[str, str | None] | None = None
    ) -> dict[str, str | int]:
        params: dict[str, str | int] = {}
        if page_size is not None:
            params["page_size"] = int(page_size)
        if page_token:
            params["page_token"] = page_token
        for key, value in (extra or {}).items():
            if value is not None:
                params[key] = value
        return params

    @staticmethod
    async def _collect(
        fetch: Callable[[int, str | None], Awaitable[Page[_T]]],
        limit: int,
    ) -> list[_T]:
        """Follow ``next_page_token`` until an empty or short page, a repeated token, or ``limit`` items."""
        out: list[_T] = []
        token: str | None = None
        seen: set[str] = set()
        while len(out) < limit:
            size = min(_PAGE_MAX, limit - len(out))
            page = await fetch(size, token)
            out.extend(page.result)
            nxt = page.next_page_token
            if not page.result or len(page.result) < size or not nxt or nxt in seen:
                break
            seen.add(nxt)
            token = nxt
        return out[:limit]

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
        body: dict[str, Any] = {"source": _body(source), "destinations": [_body(d) for d in destinations]}
        if actions is not None:
            body["actions"] = [_body(a) for a in actions]
        if flow_id is not None:
            body["flow_id"] = flow_id
        body.update(extra)
        return await self._send("POST", "/calls", CallCreateResult, body)

    async def list_calls(self, page_size: int = 100, page_token: str | None = None) -> Page[Call]:
        return await self._get("/calls", Page[Call], self._page_params(page_size, page_token))

    async def get_call(self, call_id: str) -> Call:
        return await self._get(f"/calls/{_seg(call_id)}", Call)

    async def hangup_call(self, call_id: str) -> Call:
        """``POST /calls/{id}/hangup``: returns the call as updated by the request (canceling/terminating)."""
        return await self._send("POST", f"/calls/{_seg(call_id)}/hangup", Call)

    async def delete_call(self, call_id: str) -> Call:
        return await self._send("DELETE", f"/calls/{_seg(call_id)}", Call)

    async def get_groupcall(self, groupcall_id: str) -> Groupcall:
        return await self._get(f"/groupcalls/{_seg(groupcall_id)}", Groupcall)

    async def list_groupcalls(self, page_size: int = 100, page_token: str | None = None) -> Page[Groupcall]:
        return await self._get("/groupcalls", Page[Groupcall], self._page_params(page_size, page_token))

    async def hangup_groupcall(self, groupcall_id: str) -> Groupcall:
        """``POST /groupcalls/{id}/hangup``: hangs up every leg, also one whose record does not exist yet."""
        return await self._send("POST", f"/groupcalls/{_seg(groupcall_id)}/hangup", Groupcall)

    async def delete_groupcall(self, groupcall_id: str) -> Groupcall:
        return await self._send("DELETE", f"/groupcalls/{_seg(groupcall_id)}", Groupcall)

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

    # ------------------------------------------------------------------ speakings

    async def create_speaking(
        self,
        reference_id: str,
        *,
        reference_type: str = "call",
        language: str | None = None,
        provider: str | None = None,
        direction: str | None = None,
        voice_id: str | None = None,
    ) -> Speaking:
        """``POST /speakings`` (201). Never retried on 5xx/transport errors."""
        body: dict[str, Any] = {"reference_type": reference_type, "reference_id": reference_id}
        for key, value in (("language", language), ("provider", provider), ("direction", direction)):
            if value is not None:
                body[key] = value
        if voice_id is not None:
            body["voice_id"] = voice_id
        return await self._send("POST", "/speakings", Speaking, body)

    async def list_speakings(self, page_size: int = 100, page_token: str | None = None) -> Page[Speaking]:
        return await self._get("/speakings", Page[Speaking], self._page_params(page_size, page_token))

    async def get_speaking(self, speaking_id: str) -> Speaking:
        return await self._get(f"/speakings/{_seg(speaking_id)}", Speaking)

    async def delete_speaking(self, speaking_id: str) -> Speaking:
        return await self._send("DELETE", f"/speakings/{_seg(speaking_id)}", Speaking)

    async def say(self, speaking_id: str, text: str, *, on_sent: Callable[[], None] | None = None) -> Speaking:
        """``POST /speakings/{id}/say``: queue text (at most 5000 UTF-8 bytes).

        Never retried on 5xx or transport errors: the text may already be queued. ``on_sent`` is called
        once the request has been written to the connection (before the answer), so a caller can put
        other work after the request instead of before it.
        """
        data = await self._request(
            "POST", f"/speakings/{_seg(speaking_id)}/say", json_body={"text": text}, on_sent=on_sent
        )
        return self._parse(Speaking, data, "POST", "/speakings/{id}/say")

    async def flush(self, speaking_id: str) -> Speaking:
        """Drop queued text and stop current playback; the session stays active."""
        return await self._send("POST", f"/speakings/{_seg(speaking_id)}/flush", Speaking)

    async def stop_speaking(self, speaking_id: str) -> Speaking:
        """End the speaking session for good (status ``stopped``; idempotent)."""
        return await self._send("POST", f"/speakings/{_seg(speaking_id)}/stop", Speaking)

    # ------------------------------------------------------------------ transcribes

    async def create_transcribe(
        self,
        reference_id: str,
        *,
        reference_type: str = "call",
        language: str = "en-US",
        direction: str = "both",
        provider: str | None = None,
    ) -> Transcribe:
        body: dict[str, Any] = {
            "reference_type": reference_type,
            "reference_id": reference_id,
            "language": language,
            "direction": direction,
        }
        if provider is not None:
            body["provider"] = provider
        return await self._send("POST", "/transcribes", Transcribe, body)

    async def list_transcribes(
        self,
        *,
        reference_type: str | None = None,
        reference_id: str | None = None,
        page_size: int = 100,
        page_token: str | None = None,
    ) -> Page[Transcribe]:
        """``GET /transcribes``; ``reference_type`` and ``reference_id`` must be given together."""
        params = self._page_params(
            page_size, page_token, {"reference_type": reference_type, "reference_id": reference_id}
        )
        return await self._get("/transcribes", Page[Transcribe], params)

    async def get_transcribe(self, transcribe_id: str) -> Transcribe:
        return await self._get(f"/transcribes/{_seg(transcribe_id)}", Transcribe)

    async def delete_transcribe(self, transcribe_id: str) -> Transcribe:
        return await self._send("DELETE", f"/transcribes/{_seg(transcribe_id)}", Transcribe)

    async def stop_transcribe(self, transcribe_id: str) -> Transcribe:
        return await self._send("POST", f"/transcribes/{_seg(transcribe_id)}/stop", Transcribe)

    async def list_transcripts(self, transcribe_id: str) -> list[Transcript]:
        """The newest 100 transcripts of a transcribe (the server ignores paging; we do not loop)."""
        page = await self._get("/transcripts", Page[Transcript], {"transcribe_id": transcribe_id})
        return page.result
