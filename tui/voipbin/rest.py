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
import logging
import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from tui import __version__
from tui.voipbin.bounded import (
    ACCEPT_ENCODING,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_DEADLINE,
    LIST_RESPONSE_FACTOR,
    BodyError,
    Reply,
    exchange,
)
from tui.voipbin.credentials import Credentials, plaintext_warning
from tui.voipbin.endpoints import VoipbinEndpoints
from tui.voipbin.errors import (
    AuthError,
    ResponseFormatError,
    TransportError,
    VoipbinError,
    error_from_response,
)
from tui.voipbin.models import (
    Customer,
    LoginResponse,
)
from tui.voipbin.redact import install_log_redaction, redact_text, redact_url
from tui.voipbin.replies import decode_json, explain_401, parse_model, transport_text
from tui.voipbin.transport import (
    HTTP_LIBRARY_LOGGERS,
    RefuseAllCookies,
    RequestRecord,
    derive_urls,
    sent_tracer,
    tls_context,
)

__all__ = ["DEFAULT_USER_AGENT", "RequestRecord", "VoipbinClient", "derive_urls"]

logger = logging.getLogger("tui.voipbin.rest")

DEFAULT_USER_AGENT: Final = f"voipbin-tui/{__version__}"
_PAGE_MAX: Final = 100
KEEPALIVE_EXPIRY: Final = 3.0
# Connections (idle ones kept): many concurrent calls on one account opened one per request in flight, past
# a server's cap (the sandbox answers 503 over 256), and httpcore polls each pooled one per request.
LIMITS: Final = httpx.Limits(max_connections=32, max_keepalive_connections=16, keepalive_expiry=KEEPALIVE_EXPIRY)
_M = TypeVar("_M", bound=BaseModel)
_T = TypeVar("_T")


class VoipbinClient(VoipbinEndpoints):
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
        install_log_redaction(*HTTP_LIBRARY_LOGGERS)
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            transport=transport,
            # Idle connections are closed before common server keep-alive timeouts (5 s for uvicorn and
            # many proxies): reusing one the server is closing loses a /say, which is never retried.
            limits=LIMITS,
            headers={"User-Agent": user_agent, "Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING},
            cookies=http.cookiejar.CookieJar(policy=RefuseAllCookies()),
            follow_redirects=False,
            verify=tls_context(),
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
                text = transport_text(exc, secrets, self._deadline)
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

    @property
    def _list_limit(self) -> int | None:
        return self._max_body * LIST_RESPONSE_FACTOR

    async def _exchange(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        extensions: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> Reply:
        request = self._http.build_request(method, url, headers=headers, json=json_body, extensions=extensions)
        return await exchange(self._http, request, deadline=self._deadline, limit=limit or self._max_body)

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
        extensions = {"trace": sent_tracer(on_sent)} if on_sent is not None else None
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
                text = transport_text(exc, secrets, self._deadline)
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
                return decode_json(resp, method, url, secrets)
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
                err = explain_401(err, creds)
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

    def _parse(self, model: type[_M], data: Any, method: str, path: str) -> _M:
        return parse_model(model, data, method, self._api_url + path)

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
