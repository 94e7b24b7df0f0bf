"""Turning what came back (a reply, a failure) into a value or a clear, redacted error.

The client's request loop decides whether to retry; these decide what an answer means: JSON or not,
the model it should be, why a 401 happened, what a transport failure was.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from tui.voipbin.bounded import BodyError, Reply
from tui.voipbin.credentials import Credentials
from tui.voipbin.errors import AuthError, ResponseFormatError, VoipbinError
from tui.voipbin.redact import redact_text

_M = TypeVar("_M", bound=BaseModel)


def transport_text(exc: BaseException, secrets: Sequence[str], deadline: float) -> str:
    """A transport failure in words, with every secret taken out."""
    if isinstance(exc, TimeoutError) and not isinstance(exc, httpx.HTTPError):
        return redact_text(f"no complete answer within {deadline:g} s (the request deadline)", secrets)
    if isinstance(exc, BodyError):
        return redact_text(str(exc), secrets)
    detail = str(exc).strip()
    name = type(exc).__name__
    text = f"{name}: {detail}" if detail else name
    return redact_text(text, secrets)


def explain_401(err: VoipbinError, creds: Credentials) -> VoipbinError:
    """A 401 that no new login can fix: say so when the token has expired."""
    expiry = creds.token_expiry
    if creds.kind == "token" and expiry is not None and creds.is_expired(leeway=0):
        return AuthError(
            f"{err.message} (the token expired at {expiry:%Y-%m-%d %H:%M:%S} UTC)",
            http_status=err.http_status,
            status=err.status,
            reason=err.reason,
            request_id=err.request_id,
            method=err.method,
            url=err.url,
            details=err.details,
            credential_kind=err.credential_kind,
            secrets=creds.secrets(),
        )
    return err


def decode_json(resp: Reply, method: str, url: str, secrets: Sequence[str]) -> Any:
    if not resp.content:
        return None
    try:
        return json.loads(resp.content)
    except (ValueError, RecursionError):
        snippet = redact_text(resp.content[:120].decode("utf-8", errors="replace"), secrets)
        raise ResponseFormatError(
            f"the response is not JSON: {snippet!r}",
            http_status=resp.status_code,
            request_id=resp.headers.get("x-request-id"),
            method=method,
            url=url,
            secrets=secrets,
        ) from None


def parse_model(model: type[_M], data: Any, method: str, url: str) -> _M:
    """Validate decoded JSON as ``model``; a mismatch names the first field that did not fit."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ResponseFormatError(
            f"unexpected {model.__name__} JSON ({where}: {first.get('msg')})",
            method=method,
            url=url,
        ) from None
