"""What every VoIPBIN resource method stands on: the client's transport hooks and the shared helpers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from tui.voipbin.models import Action, Address, Page

_PAGE_MAX: Final = 100
_M = TypeVar("_M", bound=BaseModel)
_T = TypeVar("_T")


def seg(value: str) -> str:
    """One path segment, quoted so an id can never change the path."""
    return quote(str(value), safe="")


def body_of(value: Address | Action | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(value, Address):
        return value.to_request()
    if isinstance(value, Action):
        return value.model_dump(exclude_none=True, exclude_defaults=True)
    return dict(value)


class EndpointBase:
    """The transport hooks (``_request``, ``_parse``, ``_list_limit``: the client's) and the helpers every
    resource method shares: one GET or send parsed as a model, page parameters, following pages."""

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
