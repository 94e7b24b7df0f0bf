"""Credentials and what they look like on the wire (README §2).

* An accesskey (``vb_…``, or any value that is not a JWT) goes in the query:
  ``?accesskey=<key>``. The server does not accept it in ``Authorization``.
* A JWT (from ``POST /auth/login``) goes in ``Authorization: Bearer <jwt>``.
* A username/password pair is not sent to ``/v1.0`` at all: it is exchanged for a
  JWT at ``/auth/login`` (see :class:`tui.voipbin.rest.VoipbinClient`).

:class:`Credentials` is immutable and never shows a secret in ``repr``/``str``.
A login produces a new instance via :meth:`Credentials.with_token`.

JWT helpers decode the payload **without verifying** it (we are the client; the
server verifies): the expiry comes from the VoIPBIN ``expire`` claim (a string
``YYYY-MM-DDTHH:MM:SS.ffffffZ``) or a standard numeric ``exp``; the customer id
from ``agent.customer_id``.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol, runtime_checkable
from urllib.parse import urlencode, urlsplit, urlunsplit

from pydantic import SecretStr

from tui.voipbin.redact import REDACTED
from tui.voipbin.timeparse import parse_time

__all__ = [
    "CredentialKind",
    "CredentialSource",
    "Credentials",
    "customer_id_from_token",
    "is_jwt",
    "jwt_payload",
    "plaintext_warning",
    "token_expiry",
]

CredentialKind = Literal["accesskey", "token", "password"]

_MAX_TOKEN_LEN = 16384


def _b64url_decode(segment: str) -> bytes:
    padded = segment + "=" * (-len(segment) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


def _decode_segment(segment: str) -> dict[str, Any] | None:
    try:
        value = json.loads(_b64url_decode(segment))
    except (ValueError, binascii.Error, UnicodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def is_jwt(value: str | None) -> bool:
    """True when ``value`` has the form of a JWT (three segments, a JSON header)."""
    if not value or len(value) > _MAX_TOKEN_LEN:
        return False
    parts = value.strip().split(".")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        return False
    header = _decode_segment(parts[0])
    return header is not None and ("alg" in header or "typ" in header)


def jwt_payload(token: str | None) -> dict[str, Any]:
    """The JWT's payload claims, decoded without verification; ``{}`` when ``token`` is not a JWT."""
    if not token or len(token) > _MAX_TOKEN_LEN:
        return {}
    parts = token.strip().split(".")
    if len(parts) != 3:
        return {}
    return _decode_segment(parts[1]) or {}


def token_expiry(token: str | None) -> datetime | None:
    """When the token expires (aware UTC), from ``expire`` (VoIPBIN) or ``exp`` (standard); else ``None``."""
    claims = jwt_payload(token)
    expire = claims.get("expire")
    if isinstance(expire, str):
        parsed = parse_time(expire)
        if parsed is not None:
            return parsed
    exp = claims.get("exp")
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        try:
            return datetime.fromtimestamp(float(exp), UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def customer_id_from_token(token: str | None) -> str | None:
    """``agent.customer_id`` from the JWT payload (no request needed), or ``None``."""
    agent = jwt_payload(token).get("agent")
    if isinstance(agent, dict):
        cid = agent.get("customer_id")
        if isinstance(cid, str) and cid:
            return cid
    return None


def _secret(value: str | SecretStr | None) -> SecretStr | None:
    if value is None:
        return None
    raw = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    raw = raw.strip()
    return SecretStr(raw) if raw else None


class Credentials:
    """One way to authenticate: an accesskey, a token, or a username and password (or several).

    When several are given, requests use the token if there is one, else the
    accesskey; username and password are kept for (re-)login. A value given as
    ``accesskey`` that is really a JWT is used as a token.
    """

    __slots__ = ("_accesskey", "_password", "_token", "_username")

    _accesskey: SecretStr | None
    _token: SecretStr | None
    _username: str | None
    _password: SecretStr | None

    def __init__(
        self,
        *,
        accesskey: str | SecretStr | None = None,
        token: str | SecretStr | None = None,
        username: str | None = None,
        password: str | SecretStr | None = None,
    ) -> None:
        key = _secret(accesskey)
        tok = _secret(token)
        if key is not None and tok is None and is_jwt(key.get_secret_value()):
            tok, key = key, None
        user = username.strip() if isinstance(username, str) and username.strip() else None
        pw = _secret(password)
        if (user is None) != (pw is None):
            raise ValueError("username and password must be given together")
        if key is None and tok is None and user is None:
            raise ValueError("no credential: configure an accesskey, a token, or a username and password")
        object.__setattr__(self, "_accesskey", key)
        object.__setattr__(self, "_token", tok)
        object.__setattr__(self, "_username", user)
        object.__setattr__(self, "_password", pw)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Credentials are immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Credentials are immutable")

    # ------------------------------------------------------------------ describing

    @property
    def kind(self) -> CredentialKind:
        """What requests are sent with now: ``token``, ``accesskey``, or ``password`` (not logged in yet)."""
        if self._token is not None:
            return "token"
        if self._accesskey is not None:
            return "accesskey"
        return "password"

    @property
    def can_login(self) -> bool:
        """True when a username and password are available for (re-)login."""
        return self._username is not None and self._password is not None

    @property
    def needs_login(self) -> bool:
        """True when there is nothing to send yet (password only, not logged in)."""
        return self._token is None and self._accesskey is None

    @property
    def failure_kind(self) -> str:
        """The kind to name in an authentication error: ``password`` when a login produced the token."""
        if self.can_login and self.kind in ("token", "password"):
            return "password"
        return self.kind

    @property
    def username(self) -> str | None:
        return self._username

    @property
    def token_expiry(self) -> datetime | None:
        """Expiry of the token in use; ``None`` for accesskeys or when unknown."""
        return token_expiry(self.get_token())

    @property
    def customer_id(self) -> str | None:
        """The customer id carried by the token, if any."""
        return customer_id_from_token(self.get_token())

    def is_expired(self, *, now: datetime | None = None, leeway: float = 30.0) -> bool:
        """True when the token's expiry has passed (or is within ``leeway`` seconds)."""
        expiry = self.token_expiry
        if expiry is None:
            return False
        current = now or datetime.now(UTC)
        return expiry <= current + timedelta(seconds=leeway)

    def __repr__(self) -> str:
        shown = [f"kind={self.kind!r}"]
        if self._accesskey is not None:
            shown.append(f"accesskey={REDACTED!r}")
        if self._token is not None:
            shown.append(f"token={REDACTED!r}")
        if self._username is not None:
            # a username equal to the password (the sandbox's default admin) must not reveal it
            user = REDACTED if self._username == self.get_password() else self._username
            shown.append(f"username={user!r}, password={REDACTED!r}")
        return f"Credentials({', '.join(shown)})"

    __str__ = __repr__

    # ------------------------------------------------------------------ secrets (read deliberately)

    def get_token(self) -> str | None:
        return self._token.get_secret_value() if self._token is not None else None

    def get_accesskey(self) -> str | None:
        return self._accesskey.get_secret_value() if self._accesskey is not None else None

    def get_password(self) -> str | None:
        return self._password.get_secret_value() if self._password is not None else None

    def secrets(self) -> tuple[str, ...]:
        """Every secret value held, for :func:`~tui.voipbin.redact.redact_text`."""
        return tuple(v for v in (self.get_token(), self.get_accesskey(), self.get_password()) if v is not None)

    # ------------------------------------------------------------------ applying

    def query_params(self) -> dict[str, str]:
        """Query parameters to add to a request (``accesskey`` only)."""
        if self._token is None and self._accesskey is not None:
            return {"accesskey": self._accesskey.get_secret_value()}
        return {}

    def headers(self) -> dict[str, str]:
        """Headers to add to a request (``Authorization: Bearer`` for tokens)."""
        if self._token is not None:
            return {"Authorization": f"Bearer {self._token.get_secret_value()}"}
        return {}

    def apply_to_url(self, url: str) -> str:
        """``url`` with :meth:`query_params` appended (for the WebSocket handshake). Redact before logging!"""
        params = self.query_params()
        if not params:
            return url
        parts = urlsplit(url)
        query = "&".join(p for p in (parts.query, urlencode(params)) if p)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))

    def with_token(self, token: str | SecretStr) -> Credentials:
        """A copy using ``token`` (kept: accesskey, username, password)."""
        return Credentials(
            accesskey=self._accesskey,
            token=token,
            username=self._username,
            password=self._password,
        )

    def without_token(self) -> Credentials:
        """A copy with the token dropped (forces a fresh login when username/password exist)."""
        return Credentials(accesskey=self._accesskey, username=self._username, password=self._password)


def _is_loopback_host(host: str) -> bool:
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def plaintext_warning(url: str, credentials: Credentials) -> str | None:
    """A warning when ``credentials`` would travel unencrypted (``http://``/``ws://``) beyond this machine."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "ws") or not credentials.secrets():
        return None
    host = parts.hostname or ""
    if _is_loopback_host(host):
        return None
    what = {"accesskey": "the accesskey", "token": "the token"}.get(credentials.kind, "the password and its token")
    return (
        f"{what} will be sent unencrypted over {parts.scheme}:// to {host[:253]}: anyone on the network path "
        "can read it; use https:// for any host other than this machine"
    )


@runtime_checkable
class CredentialSource(Protocol):
    """Anything that can hand out current credentials and log in again (``VoipbinClient`` does)."""

    async def ws_credentials(self) -> Credentials: ...

    async def refresh_credentials(self) -> Credentials | None: ...
