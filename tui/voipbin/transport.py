"""Pieces of the REST client's HTTP transport: request records, URL derivation, no cookies, the sent hook,
the HTTP library's loggers to redact."""

from __future__ import annotations

import functools
import http.cookiejar
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from tui.voipbin.redact import redact_url

# The client's logger: a failing hook is the client's problem to report.
logger = logging.getLogger("tui.voipbin.rest")

# Loggers of httpx/httpcore that can print URLs (with ?accesskey=) or headers (Set-Cookie: token=…).
# Filters do not inherit to child loggers, so each one is named.
HTTP_LIBRARY_LOGGERS: Final = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.connection_pool",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """What happened on one HTTP attempt. ``url`` is redacted; no body is kept."""

    method: str
    url: str
    status: int | None
    elapsed_ms: float
    request_id: str | None
    error: str | None
    attempt: int
    reason: str | None = None
    will_retry: bool = False
    at: float = field(default_factory=time.time)

    def summary(self) -> str:
        """One line for an event log, e.g. ``GET /v1.0/calls/… → 200 12 ms``."""
        try:
            path = urlsplit(self.url).path or self.url
        except ValueError:
            path = self.url
        result = str(self.status) if self.status is not None else "no response"
        if self.reason:
            result += f" {self.reason}"
        line = f"{self.method} {path} → {result} {self.elapsed_ms:.0f} ms"
        if self.attempt > 1:
            line += f" (try {self.attempt})"
        if self.request_id:
            line += f" [{self.request_id}]"
        if self.error and self.status is None:
            line += f": {self.error}"
        if self.will_retry:
            line += ", retrying"
        return line


class RefuseAllCookies(http.cookiejar.DefaultCookiePolicy):
    """Neither store nor send cookies (the login ``token`` cookie would override our header)."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


def sent_tracer(on_sent: Callable[[], None]) -> Callable[[str, Mapping[str, Any]], Awaitable[None]]:
    """An httpcore trace hook calling ``on_sent`` once, when the request body has been written."""
    fired = False

    async def trace(event: str, info: Mapping[str, Any]) -> None:
        nonlocal fired
        if not fired and event.endswith("send_request_body.complete"):
            fired = True
            try:
                on_sent()
            except Exception:
                logger.exception("on_sent callback failed")

    return trace


def derive_urls(api_url: str) -> tuple[str, str, str]:
    """``(api_url, login_url, ws_url)`` from the REST base (which includes ``/v1.0``).

    ``https://api.voipbin.net/v1.0`` → login ``https://api.voipbin.net/auth/login``,
    WebSocket ``wss://api.voipbin.net/v1.0/ws``.
    """
    base = api_url.strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"the API URL must be http(s)://host[:port]/v1.0, got {redact_url(base)!r}")
    base = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
    root_path = parts.path.rstrip("/")
    if root_path.endswith("/v1.0"):
        root_path = root_path[: -len("/v1.0")]
    login_url = urlunsplit((parts.scheme, parts.netloc, root_path + "/auth/login", "", ""))
    ws_scheme = "wss" if parts.scheme == "https" else "ws"
    ws_url = urlunsplit((ws_scheme, parts.netloc, parts.path.rstrip("/") + "/ws", "", ""))
    return base, login_url, ws_url


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client of the process (httpx's defaults: certifi's CAs, verified).

    Building one reads the whole CA bundle (80-100 ms of CPU on a loaded machine, with the event loop
    blocked); each REST client, control client and scenario built its own.
    """
    import httpx

    return httpx.create_ssl_context()
