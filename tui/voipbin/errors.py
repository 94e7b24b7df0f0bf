"""One error type for everything that can go wrong talking to VoIPBIN.

:class:`VoipbinError` carries the HTTP status, the envelope's ``status``,
``reason``, ``message``, ``details`` and ``request_id`` (README §3.4), the
request's method and (redacted) URL, and ``Retry-After`` when present.
``str(err)`` is one line a user can act on and quote to support; ``hint()``
says what to do next. No secret ever reaches either: the URL is redacted and
every text passes :func:`~tui.voipbin.redact.redact_text`.

Subclasses let callers branch without string matching: :class:`AuthError`
(401, login rejected), :class:`TransportError` (no response at all),
:class:`NotFoundError`, :class:`ConflictError`, :class:`RateLimitError`,
:class:`ServerError`, :class:`BadRequestError`, :class:`ForbiddenError`,
:class:`ResponseFormatError` (2xx with an unreadable body).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from tui.voipbin.redact import redact_text, redact_url

__all__ = [
    "AuthError",
    "BadRequestError",
    "ConflictError",
    "ForbiddenError",
    "NotFoundError",
    "RateLimitError",
    "ResponseFormatError",
    "ServerError",
    "TransportError",
    "VoipbinError",
    "cut_text",
    "error_class_for",
    "error_from_response",
    "parse_retry_after",
]

_BODY_SNIPPET = 200
#: Longest message kept from a server (a 5 MB one froze the console and filled every log).
MESSAGE_MAX = 500
#: Longest reason/status/request id kept, and how many ``details`` entries.
FIELD_MAX = 120
DETAILS_MAX = 10
#: A ``Retry-After`` longer than this (or infinite) is shown as this: nobody waits longer in a console.
RETRY_AFTER_MAX = 3600.0
CUT_MARK = "…[cut: {n} more characters]"
# Room for a cut marker on top of MESSAGE_MAX (a cut message is not cut again).
_MESSAGE_HARD_MAX = MESSAGE_MAX + 80
#: How much of a cut-off error body is searched for the envelope's fields.
ERROR_SALVAGE_BYTES = 64 * 1024


def cut_text(text: str, limit: int = MESSAGE_MAX) -> str:
    """``text`` at most about ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + CUT_MARK.format(n=len(text) - limit)


def _cut_field(value: str | None) -> str | None:
    return cut_text(value, FIELD_MAX) if value else None


def _cut_details(details: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for entry in details or ():
        if len(out) >= DETAILS_MAX:
            break
        if isinstance(entry, Mapping):
            out.append({cut_text(str(k), FIELD_MAX): _cut_value(v) for k, v in list(entry.items())[:DETAILS_MAX]})
    return out


def _cut_value(value: Any) -> Any:
    if isinstance(value, str):
        return cut_text(value, FIELD_MAX)
    if isinstance(value, bool | int | float) or value is None:
        return value
    return cut_text(json.dumps(value, default=str)[: FIELD_MAX * 2], FIELD_MAX)


class VoipbinError(Exception):
    """A failed VoIPBIN request (or login, or stream handshake)."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        status: str | None = None,
        reason: str | None = None,
        request_id: str | None = None,
        method: str = "",
        url: str = "",
        details: Iterable[Mapping[str, Any]] | None = None,
        retry_after: float | None = None,
        credential_kind: str | None = None,
        secrets: Iterable[str | None] = (),
    ) -> None:
        secret_list = [s for s in secrets if s]
        # Cut before redacting (bounded work), redact, then cut again (a redaction marker may lengthen it).
        self.message: str = (
            cut_text(redact_text(cut_text(message, _MESSAGE_HARD_MAX), secret_list), _MESSAGE_HARD_MAX)
            if message
            else ""
        )
        self.http_status = http_status
        self.status = _cut_field(status)
        self.reason = _cut_field(reason)
        self.request_id = _cut_field(request_id)
        self.method = method.upper()[:FIELD_MAX]
        self.url = cut_text(redact_text(redact_url(url), secret_list)) if url else ""
        self.details: list[dict[str, Any]] = _cut_details(details)
        self.retry_after = _sane_retry_after(retry_after)
        self.credential_kind = credential_kind
        super().__init__(self.__str__())

    # ------------------------------------------------------------------ presentation

    @property
    def path(self) -> str:
        """The URL path (no host, no query), e.g. ``/v1.0/calls``."""
        if not self.url:
            return ""
        try:
            return urlsplit(self.url).path or self.url
        except ValueError:
            return self.url

    def __str__(self) -> str:
        where = f"{self.method} {self.path}".strip()
        code = " ".join(str(x) for x in (self.http_status, self.reason or self.status) if x)
        head = f"{where} failed" if where else "VoIPBIN request failed"
        if code:
            head += f" ({code})"
        line = f"{head}: {self.message or 'no detail given'}"
        if self.request_id:
            line += f" [request_id {self.request_id}]"
        return line.replace("\n", " ").replace("\r", " ")

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(http_status={self.http_status!r}, reason={self.reason!r}, "
            f"message={self.message!r}, request_id={self.request_id!r}, "
            f"method={self.method!r}, url={self.url!r})"
        )

    def hint(self) -> str | None:
        """A short "what to do", or ``None`` when there is nothing useful to add."""
        reason = self.reason or ""
        method, path = self.method, self.path
        if self.http_status == 403:
            if reason == "IDENTITY_VERIFICATION_REQUIRED":
                return "verify the customer's identity before calling tel numbers, or dial an extension/sip address"
            if reason == "ACCOUNT_FROZEN":
                return "the account is frozen; contact VoIPBIN support"
            if reason == "AGENT_AUTH_REQUIRED":
                return "this endpoint needs an agent login (username/password), not an accesskey"
            return (
                "the credential lacks CustomerAdmin/CustomerManager permission, "
                "or the resource belongs to another customer"
            )
        if self.http_status == 404:
            if "/speakings/" in path and path.rstrip("/").endswith(("/say", "/flush")):
                return "the speaking session is no longer active (stopped or the call ended); open a new one"
            if reason == "ROUTE_NOT_FOUND":
                return "check the API URL: it must end with /v1.0"
            return "the id is wrong or the resource is gone"
        if self.http_status == 409:
            if reason == "STATE_INVALID":
                return "the call was deleted; start a new call"
            if reason == "TRANSCRIBE_ALREADY_PROGRESSING":
                return "a transcribe for this call and language is already running; look it up with GET /transcribes"
            return None
        if self.http_status == 429:
            if self.retry_after is not None and self.retry_after >= RETRY_AFTER_MAX:
                return "rate limited for an hour or more: try again later"
            if self.retry_after is not None:
                return f"rate limited: wait {self.retry_after:g} s and try again"
            return "rate limited: slow down and try again"
        if self.http_status == 500 and method == "POST" and path.endswith("/calls"):
            return (
                "VoIPBIN gives no detail here: check that the extension is registered and dialled by its "
                "'extension' field (not its name), and that the source number is one of yours"
            )
        if self.http_status == 500 and method == "POST" and path.endswith("/speakings"):
            return "the call may have ended, or a speaking session is already open on it"
        if self.http_status == 503:
            return "VoIPBIN timed out; the operation may still have happened, check before repeating it"
        if self.http_status is not None and self.http_status >= 500:
            return "VoIPBIN had an internal error; quote the request id if it persists"
        return None


class AuthError(VoipbinError):
    """The credential was missing, wrong or expired (HTTP 401), or login was rejected."""

    def hint(self) -> str | None:
        kind = self.credential_kind
        if kind == "login":
            return "check the username and password (they are the admin agent's login)"
        if kind == "accesskey":
            return "check the accesskey: it may be mistyped, expired or deleted; create a new one in the admin console"
        if kind == "token":
            return "log in again for a new token (tokens last 7 days), or configure username and password"
        if kind == "password":
            return "a fresh login's token was refused too: check the account and quote the request id"
        return "configure an accesskey, a token, or a username and password"


class TransportError(VoipbinError):
    """No HTTP response: DNS, connect, TLS, read timeout, connection reset."""

    def hint(self) -> str | None:
        return "check the network and the API URL; the server did not answer"


class BadRequestError(VoipbinError):
    """HTTP 400 (other than login)."""


class ForbiddenError(VoipbinError):
    """HTTP 403."""


class NotFoundError(VoipbinError):
    """HTTP 404."""


class ConflictError(VoipbinError):
    """HTTP 409 (deleted call, transcribe already running …)."""


class RateLimitError(VoipbinError):
    """HTTP 429; ``retry_after`` holds the server's ``Retry-After`` in seconds when given."""


class ServerError(VoipbinError):
    """HTTP 5xx."""


class ResponseFormatError(VoipbinError):
    """A success status whose body is not the JSON we expected."""


def error_class_for(http_status: int | None) -> type[VoipbinError]:
    if http_status is None:
        return TransportError
    return {
        400: BadRequestError,
        401: AuthError,
        403: ForbiddenError,
        404: NotFoundError,
        409: ConflictError,
        429: RateLimitError,
    }.get(http_status, ServerError if http_status >= 500 else VoipbinError)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date); ``None`` when absent/unreadable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return _sane_retry_after(seconds)


def _sane_retry_after(seconds: float | None) -> float | None:
    """NaN → unknown; negative → 0; infinite or huge → :data:`RETRY_AFTER_MAX`."""
    if seconds is None or seconds != seconds:
        return None
    return min(RETRY_AFTER_MAX, max(0.0, seconds))


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) > _BODY_SNIPPET:
        flat = flat[: _BODY_SNIPPET - 1] + "…"
    return flat


def error_from_response(
    *,
    http_status: int,
    body: bytes,
    headers: Mapping[str, str],
    method: str,
    url: str,
    credential_kind: str | None = None,
    secrets: Iterable[str | None] = (),
    body_cut: bool = False,
) -> VoipbinError:
    """Build the right :class:`VoipbinError` subclass from a non-2xx response.

    Understands the VoIPBIN envelope ``{"error": {status, reason, message, request_id, details}}``;
    anything else (empty body, HTML from a proxy, plain text) becomes a message with
    a short, redacted snippet of the body. ``body_cut`` says the body was only read in part (it
    was too large): the envelope's fields are then picked out of the part that was read.
    """
    secret_list = [s for s in secrets if s]
    lowered = {k.lower(): v for k, v in headers.items()}
    request_id = lowered.get("x-request-id")
    retry_after = parse_retry_after(lowered.get("retry-after"))
    status: str | None = None
    reason: str | None = None
    message = ""
    details: list[dict[str, Any]] = []
    parsed: Any = None
    if body:
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):
            parsed = None
    if parsed is None and body_cut:
        parsed = _salvage_envelope(body)
    envelope = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(envelope, dict):
        status = _str_or_none(envelope.get("status"))
        reason = _str_or_none(envelope.get("reason"))
        message = _str_or_none(envelope.get("message")) or ""
        request_id = _str_or_none(envelope.get("request_id")) or request_id
        raw_details = envelope.get("details")
        if isinstance(raw_details, list):
            details = [d for d in raw_details[:DETAILS_MAX] if isinstance(d, dict)]
    elif isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
        message = parsed["message"]
    elif body:
        try:
            text = body.decode("utf-8", errors="replace")
        except Exception:  # pragma: no cover - decode with "replace" does not fail
            text = ""
        snippet = _one_line(redact_text(text[: _BODY_SNIPPET * 8], secret_list))
        message = f"unexpected response body: {snippet}" if snippet else ""
    if not message:
        message = _default_message(http_status)
    cls = error_class_for(http_status)
    if http_status == 401:
        message = _auth_message(message, credential_kind)
    return cls(
        message,
        http_status=http_status,
        status=status,
        reason=reason,
        request_id=request_id,
        method=method,
        url=url,
        details=details,
        retry_after=retry_after,
        credential_kind=credential_kind,
        secrets=secret_list,
    )


# Possessive quantifiers: no backtracking (and no stack) however long the cut-off string is.
_FIELD_RE = re.compile(rb'"(status|reason|message|request_id)"\s*:\s*"((?:[^"\\]++|\\.)*+)(")?')


def _salvage_envelope(body: bytes) -> dict[str, Any] | None:
    """The envelope fields found in the start of a JSON body that was cut off."""
    fields: dict[str, str] = {}
    for match in _FIELD_RE.finditer(body[:ERROR_SALVAGE_BYTES]):
        name = match.group(1).decode()
        raw = match.group(2)
        text = _json_string(raw, tries=1 if match.group(3) else 7)
        if text is None:
            continue
        if match.group(3) is None:
            text = text[:MESSAGE_MAX] + "…[cut: the response was too large to read]"
        fields.setdefault(name, text)
    return {"error": fields} if fields else None


def _json_string(raw: bytes, tries: int) -> str | None:
    # A string cut off may end inside an escape (``\u00``): drop a few bytes until it decodes.
    for end in range(len(raw), max(-1, len(raw) - tries), -1):
        try:
            value = json.loads(b'"' + raw[:end] + b'"')
        except ValueError:
            continue
        return value if isinstance(value, str) else None
    return None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _default_message(http_status: int) -> str:
    return {
        400: "the request was rejected as invalid",
        401: "authentication failed",
        403: "permission denied",
        404: "not found",
        409: "conflict with the resource's current state",
        429: "too many requests",
        500: "internal server error",
        502: "bad gateway",
        503: "service unavailable",
        504: "gateway timeout",
    }.get(http_status, f"HTTP {http_status}")


def _auth_message(message: str, kind: str | None) -> str:
    what = {
        "accesskey": "the accesskey was rejected",
        "token": "the token was rejected (invalid or expired)",
        "password": "the token from the username/password login was rejected",
    }.get(kind or "", "no valid credential was accepted")
    todo = AuthError("", credential_kind=kind).hint()
    base = message.rstrip(".")
    return f"{base}: {what}; {todo}" if todo else f"{base}: {what}"
