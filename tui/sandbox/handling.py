"""What every route handler shares: reading path ids, pages and query values as VoIPBIN's gin server
does, and writing its JSON and error responses (with the request id)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from tui.sandbox import errors
from tui.sandbox.encoding import dumps, parse_uuid
from tui.sandbox.store import parse_page_size

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
REQUEST_ID_KEY = "tui.sandbox.request_id"


def json_response(payload: Any, status: int = 200, background: BackgroundTask | None = None) -> Response:
    return Response(dumps(payload), status_code=status, media_type=JSON_TYPE, background=background)


def error_response(error: errors.ApiError, request_id: str) -> Response:
    headers = {"Retry-After": "1"} if error.http_status == 429 else None
    if error.http_override is not None:
        # The rest of a refused body is never read, so the connection cannot carry another request.
        headers = {"Connection": "close"}
    # gin's MustBindWith writes its text/plain header before the handler writes the JSON envelope.
    media_type = TEXT_TYPE if error.reason == "INVALID_JSON_BODY" else JSON_TYPE
    return Response(
        dumps(error.envelope(request_id)),
        status_code=error.http_status,
        media_type=media_type,
        headers=headers,
    )


def request_id_of(scope: Scope) -> str:
    value = scope.get(REQUEST_ID_KEY)
    return value if isinstance(value, str) else errors.new_request_id()


def query_first(request: Request, name: str) -> str | None:
    """Like gin's ``c.Query``: the first value, or None when the key is absent."""
    parsed: dict[str, list[str]] | None = request.scope.get("tui.sandbox.query")
    if parsed is None:
        parsed = parse_qs(request.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        request.scope["tui.sandbox.query"] = parsed
    values = parsed.get(name)
    return values[0] if values else None


def path_id(request: Request) -> str:
    """The ``{id}`` of the path as a UUID; the zero UUID and junk are INVALID_ID, as on the real server."""
    parsed = parse_uuid(request.path_params["id"])
    if parsed is None or parsed.int == 0:
        raise errors.invalid_id()
    return str(parsed)


def page_of(request: Request) -> tuple[int, str | None]:
    return parse_page_size(query_first(request, "page_size")), query_first(request, "page_token")
