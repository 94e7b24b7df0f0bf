"""The VoIPBIN REST client: one long-lived ``httpx.AsyncClient`` per account.

Credentials (README §2): an accesskey goes in ``?accesskey=``, a JWT in
``Authorization: Bearer``. With a username and password the client logs in
lazily on first use (``POST <root>/auth/login``) and, when a request answers 401,
logs in again **once** and repeats that request once. With a plain token or
accesskey a 401 raises :class:`~tui.voipbin.errors.AuthError` naming what to do.

No cookie jar: ``/auth/login`` sets a ``token`` cookie that would beat the
``Authorization`` header on later requests (NOTES §E.8), so cookies are refused.

Retries (bounded, with capped waits):

* ``GET`` on transport errors and 5xx — up to ``max_retries`` more tries, backoff
  ``retry_base_delay`` doubling, with jitter;
* any method on 429 **with** ``Retry-After`` (rate limiting runs before the
  handler, so nothing happened) — up to ``max_retries`` more tries, when the wait
  is at most ``max_retry_after`` seconds;
* never ``POST /calls``, ``POST /speakings``, ``/say`` or any other non-GET on a
  5xx or transport error: the server may have acted (README §3.4: 503
  ``REQUEST_TIMEOUT`` while the work goes on).

Every attempt produces a :class:`RequestRecord` (redacted URL, status, elapsed,
request id, error) passed to ``on_request``; the server's ``X-Request-Id`` is
read from every response. Nothing secret is logged or put in an exception.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from pydantic import BaseModel, ValidationError

from tui import __version__
from tui.voipbin.bounded import (
    ACCEPT_ENCODING,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_DEADLINE,
    ERROR_BODY_BYTES,
    LIST_RESPONSE_FACTOR,
    BodyError,
    read_body,
)
from tui.voipbin.credentials import Credentials, plaintext_warning
from tui.voipbin.errors import (
    AuthError,
    ResponseFormatError,
    TransportError,
    VoipbinError,
    error_from_response,
)
from tui.voipbin.models import (
    Action,
    Address,
    Call,
    CallCreateResult,
    Customer,
    Extension,
    Groupcall,
    LoginResponse,
    Number,
    Page,
    Speaking,
    Transcribe,
    Transcript,
)
from tui.voipbin.redact import install_log_redaction, redact_text, redact_url

__all__ = ["DEFAULT_USER_AGENT", "RequestRecord", "VoipbinClient", "derive_urls"]

logger = logging.getLogger("tui.voipbin.rest")

DEFAULT_USER_AGENT: Final = f"voipbin-tui/{__version__}"
_PAGE_MAX: Final = 100
KEEPALIVE_EXPIRY: Final = 3.0
# Loggers of httpx/httpcore that can print URLs (with ?accesskey=) or headers (Set-Cookie: token=…).
# Filters do not inherit to child loggers, so each one is named.
_THIRD_PARTY_LOGGERS: Final = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.connection_pool",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)

_M = TypeVar("_M", bound=BaseModel)
_T = TypeVar("_T")


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


@dataclass(frozen=True, slots=True)
class _Reply:
    """A response read in full (within the limits)."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    cut: bool = False


class _RefuseAllCookies(http.cookiejar.DefaultCookiePolicy):
    """Neither store nor send cookies (the login ``token`` cookie would override our header)."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


def _sent_tracer(on_sent: Callable[[], None]) -> Callable[[str, Mapping[str, Any]], Awaitable[None]]:
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


def _seg(value: str) -> str:
    """One path segment, quoted so an id can never change the path."""
    return quote(str(value), safe="")


def _body(value: Address | Action | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(value, Address):
        return value.to_request()
    if isinstance(value, Action):
        return value.model_dump(exclude_none=True, exclude_defaults=True)
    return dict(value)


class VoipbinClient:
    """Async client for the VoIPBIN endpoints the console uses. Use ``async with`` or :meth:`aclose`."""

    def __init__(
        self,
        api_url: str,
        *,
        accesskey: str | None = None,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        credentials: Credentials | None = None,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        on_request: Callable[[RequestRecord], None] | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        max_retries: int = 2,
        retry_base_delay: float = 0.25,
        max_retry_after: float = 10.0,
        request_deadline: float = DEFAULT_REQUEST_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._api_url, self._login_url, self._ws_url = derive_urls(api_url)
        if credentials is None:
            credentials = Credentials(accesskey=accesskey, token=token, username=username, password=password)
        self._creds = credentials
        self._timeout = timeout
        self._on_request = on_request
        self._max_retries = max(0, max_retries)
        self._retry_base_delay = max(0.0, retry_base_delay)
        self._max_retry_after = max(0.0, max_retry_after)
        # Per-read timeouts alone let a server trickle one byte every few seconds for ever.
        self._deadline = max(0.001, request_deadline)
        self._max_body = max(1024, max_response_bytes)
        self.plaintext_warning = plaintext_warning(self._api_url, credentials)
        if self.plaintext_warning:
            logger.warning("%s", self.plaintext_warning)
        self._auth_lock = asyncio.Lock()
        self._auth_generation = 0
        self._customer_id: str | None = None
        self._closed = False
        install_log_redaction(*_THIRD_PARTY_LOGGERS)
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            transport=transport,
            # Idle connections are closed before common server keep-alive timeouts (5 s for uvicorn and
            # many proxies): reusing one the server is closing loses a /say, which is never retried.
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY),
            headers={"User-Agent": user_agent, "Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING},
            cookies=http.cookiejar.CookieJar(policy=_RefuseAllCookies()),
            follow_redirects=False,
        )

    # ------------------------------------------------------------------ properties

    @property
    def api_url(self) -> str:
        return self._api_url

    @property
    def login_url(self) -> str:
        return self._login_url

    @property
    def ws_url(self) -> str:
        return self._ws_url

    @property
    def credentials(self) -> Credentials:
        """The credentials in use now (a new instance after each login)."""
        return self._creds

    @property
    def credential_kind(self) -> str:
        """``accesskey``, ``token``, or ``password`` (username/password login, before or after logging in)."""
        return self._creds.failure_kind

    @property
    def can_login(self) -> bool:
        return self._creds.can_login

    @property
    def token_expiry(self) -> datetime | None:
        """Expiry of the JWT in use (``None`` for accesskeys, or before the first login)."""
        return self._creds.token_expiry

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def on_request(self) -> Callable[[RequestRecord], None] | None:
        """Called with a :class:`RequestRecord` after every HTTP attempt (may be replaced at any time)."""
        return self._on_request

    @on_request.setter
    def on_request(self, callback: Callable[[RequestRecord], None] | None) -> None:
        self._on_request = callback

    def secrets(self) -> tuple[str, ...]:
        """Current secret values, for redacting anything before it is shown."""
        return self._creds.secrets()

    async def __aenter__(self) -> VoipbinClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._http.aclose()

    # ------------------------------------------------------------------ auth

    async def login(self) -> str:
        """Log in with the configured username/password; returns the new JWT (keep it secret)."""
        async with self._auth_lock:
            await self._login_locked()
        token = self._creds.get_token()
        assert token is not None
        return token

    async def ws_credentials(self) -> Credentials:
        """Credentials to open the WebSocket with (logs in first when only username/password exist)."""
        return await self._ready_credentials()

    async def refresh_credentials(self) -> Credentials | None:
        """Log in again when possible (after a 401 elsewhere); ``None`` when there is no username/password."""
        if not self._creds.can_login:
            return None
        generation = self._auth_generation
        await self._relogin(generation)
        return self._creds

    async def _ready_credentials(self) -> Credentials:
        creds = self._creds
        if creds.needs_login or (creds.kind == "token" and creds.can_login and creds.is_expired()):
            async with self._auth_lock:
                creds = self._creds
                if creds.needs_login or (creds.kind == "token" and creds.can_login and creds.is_expired()):
                    await self._login_locked()
        return self._creds

    async def _relogin(self, generation: int) -> None:
        async with self._auth_lock:
            if self._auth_generation != generation:
                return  # another request logged in meanwhile
            await self._login_locked()

    async def _login_locked(self) -> None:
        creds = self._creds
        username, password = creds.username, creds.get_password()
        if username is None or password is None:
            raise AuthError(
                "cannot log in: no username/password configured",
                credential_kind=creds.kind,
                method="POST",
                url=self._login_url,
            )
        secrets = creds.secrets()
        attempt = 0
        limited = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                resp = await self._exchange(
                    "POST", self._login_url, json_body={"username": username, "password": password}
                )
            except (httpx.HTTPError, TimeoutError, BodyError) as exc:
                elapsed = (time.monotonic() - started) * 1000
                text = self._transport_text(exc, secrets)
                self._record("POST", self._login_url, None, elapsed, None, text, attempt)
                raise TransportError(
                    f"login failed: {text}", method="POST", url=self._login_url, secrets=secrets
                ) from None
            elapsed = (time.monotonic() - started) * 1000
            request_id = resp.headers.get("x-request-id")
            status = resp.status_code
            if status == 200:
                self._record("POST", self._login_url, status, elapsed, request_id, None, attempt)
                try:
                    parsed = LoginResponse.model_validate_json(resp.content)
                except ValidationError:
                    raise ResponseFormatError(
                        "login answered 200 without a token",
                        http_status=status,
                        request_id=request_id,
                        method="POST",
                        url=self._login_url,
                        secrets=secrets,
                    ) from None
                self._http.cookies.clear()
                self._creds = creds.with_token(parsed.token)
                self._auth_generation += 1
                if self._customer_id is None:
                    self._customer_id = self._creds.customer_id
                # The username is not logged: some accounts use the same string as the password.
                logger.info("logged in (token expires %s)", self._creds.token_expiry)
                return
            if status in (400, 401):
                err: VoipbinError = AuthError(
                    "the username/password were rejected by /auth/login (HTTP "
                    f"{status}{', empty body' if not resp.content else ''}): check the username and password",
                    http_status=status,
                    request_id=request_id,
                    method="POST",
                    url=self._login_url,
                    credential_kind="login",
                    secrets=secrets,
                )
            else:
                err = error_from_response(
                    http_status=status,
                    body=resp.content,
                    body_cut=resp.cut,
                    headers=resp.headers,
                    method="POST",
                    url=self._login_url,
                    credential_kind="login",
                    secrets=secrets,
                )
            retry = self._should_retry_429(err, limited)
            self._record("POST", self._login_url, status, elapsed, request_id, str(err), attempt, err.reason, retry)
            if retry:
                limited += 1
                await asyncio.sleep(err.retry_after or 0.0)
                continue
            raise err

    # ------------------------------------------------------------------ transport core

    def _record(
        self,
        method: str,
        url: str,
        status: int | None,
        elapsed_ms: float,
        request_id: str | None,
        error: str | None,
        attempt: int,
        reason: str | None = None,
        will_retry: bool = False,
    ) -> None:
        secrets = self._creds.secrets()
        record = RequestRecord(
            method=method,
            url=redact_text(redact_url(url), secrets),
            status=status,
            elapsed_ms=round(elapsed_ms, 2),
            request_id=request_id,
            error=redact_text(error, secrets) if error else None,
            attempt=attempt,
            reason=reason,
            will_retry=will_retry,
        )
        level = logging.DEBUG if status is not None and status < 400 else logging.INFO
        logger.log(level, "%s", record.summary())
        if self._on_request is not None:
            try:
                self._on_request(record)
            except Exception:
                logger.exception("on_request callback failed")

    async def _exchange(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        extensions: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> _Reply:
        """One HTTP attempt within the request deadline; the body is read with a cap on its decoded size."""
        async with asyncio.timeout(self._deadline):
            request = self._http.build_request(method, url, headers=headers, json=json_body, extensions=extensions)
            response = await self._http.send(request, stream=True)
            try:
                ok = 200 <= response.status_code < 300
                # An error body is only wanted for its message: it is cut, not refused.
                body = await read_body(response, (limit or self._max_body) if ok else ERROR_BODY_BYTES, truncate=not ok)
            finally:
                await response.aclose()
        return _Reply(response.status_code, response.headers, body.data, body.cut)

    def _transport_text(self, exc: BaseException, secrets: Sequence[str]) -> str:
        if isinstance(exc, TimeoutError) and not isinstance(exc, httpx.HTTPError):
            return redact_text(f"no complete answer within {self._deadline:g} s (the request deadline)", secrets)
        if isinstance(exc, BodyError):
            return redact_text(str(exc), secrets)
        detail = str(exc).strip()
        name = type(exc).__name__
        text = f"{name}: {detail}" if detail else name
        return redact_text(text, secrets)

    def _backoff(self, attempt: int) -> float:
        base: float = self._retry_base_delay * (2.0 ** (attempt - 1))
        return base * random.uniform(0.8, 1.2)

    def _should_retry_429(self, err: VoipbinError, limited: int) -> bool:
        return (
            err.http_status == 429
            and err.retry_after is not None
            and err.retry_after <= self._max_retry_after
            and limited < self._max_retries
        )

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
        """Send one logical request (with the retry/re-login policy); return the decoded JSON body."""
        limit = limit or self._max_body
        extensions = {"trace": _sent_tracer(on_sent)} if on_sent is not None else None
        if self._closed:
            raise RuntimeError("VoipbinClient is closed")
        url = self._api_url + path
        safe = method == "GET"
        attempt = 0
        limited = 0
        relogged = False
        while True:
            attempt += 1
            creds = await self._ready_credentials()
            generation = self._auth_generation
            secrets = creds.secrets()
            query: dict[str, str | int] = {k: v for k, v in (params or {}).items()}
            query.update(creds.query_params())
            full_url = httpx.URL(url, params=query) if query else httpx.URL(url)
            started = time.monotonic()
            try:
                resp = await self._exchange(
                    method, full_url, headers=creds.headers(), json_body=json_body, extensions=extensions, limit=limit
                )
            except (httpx.HTTPError, TimeoutError, BodyError) as exc:
                elapsed = (time.monotonic() - started) * 1000
                text = self._transport_text(exc, secrets)
                if isinstance(exc, BodyError):
                    self._record(method, str(full_url), None, elapsed, None, text, attempt)
                    raise ResponseFormatError(
                        text, method=method, url=url, credential_kind=creds.kind, secrets=secrets
                    ) from None
                # Past the deadline a retry would only double the wait: that one request fails.
                retry = safe and attempt <= self._max_retries and not isinstance(exc, TimeoutError)
                self._record(method, str(full_url), None, elapsed, None, text, attempt, None, retry)
                if retry:
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                raise TransportError(
                    f"no response: {text}",
                    method=method,
                    url=url,
                    credential_kind=creds.kind,
                    secrets=secrets,
                ) from None
            elapsed = (time.monotonic() - started) * 1000
            status = resp.status_code
            request_id = resp.headers.get("x-request-id")
            if 200 <= status < 300:
                self._record(method, str(full_url), status, elapsed, request_id, None, attempt)
                return self._decode(resp, method, url, secrets)
            kind = creds.failure_kind
            err = error_from_response(
                http_status=status,
                body=resp.content,
                body_cut=resp.cut,
                headers=resp.headers,
                method=method,
                url=url,
                credential_kind=kind,
                secrets=secrets,
            )
            if status == 401 and not relogged and creds.can_login:
                relogged = True
                self._record(method, str(full_url), status, elapsed, request_id, str(err), attempt, err.reason, True)
                logger.info("%s %s answered 401: logging in again once", method, path)
                await self._relogin(generation)
                continue
            if status == 401:
                err = self._explain_401(err, creds)
            retry = False
            if self._should_retry_429(err, limited):
                retry = True
                limited += 1
                wait = err.retry_after or 0.0
            elif status >= 500 and safe and attempt <= self._max_retries:
                retry = True
                wait = self._backoff(attempt)
            self._record(method, str(full_url), status, elapsed, request_id, str(err), attempt, err.reason, retry)
            if retry:
                await asyncio.sleep(wait)
                continue
            raise err

    def _explain_401(self, err: VoipbinError, creds: Credentials) -> VoipbinError:
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

    @staticmethod
    def _decode(resp: _Reply, method: str, url: str, secrets: Sequence[str]) -> Any:
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

    def _parse(self, model: type[_M], data: Any, method: str, path: str) -> _M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise ResponseFormatError(
                f"unexpected {model.__name__} JSON ({where}: {first.get('msg')})",
                method=method,
                url=self._api_url + path,
            ) from None

    async def _get(self, path: str, model: type[_M], params: Mapping[str, str | int] | None = None) -> _M:
        # A page of up to 100 items may be larger than one resource.
        limit = self._max_body * LIST_RESPONSE_FACTOR if issubclass(model, Page) else None
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

    # ------------------------------------------------------------------ customer

    async def get_customer(self) -> Customer:
        """``GET /customer``: the authenticated customer (also validates the credential)."""
        customer = await self._get("/customer", Customer)
        if customer.id:
            self._customer_id = customer.id
        return customer

    async def get_customer_id(self) -> str:
        """The customer id for WebSocket topics: from the JWT when possible, else ``GET /customer``."""
        if self._customer_id:
            return self._customer_id
        creds = await self._ready_credentials()
        cid = creds.customer_id
        if cid:
            self._customer_id = cid
            return cid
        return (await self.get_customer()).id

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
