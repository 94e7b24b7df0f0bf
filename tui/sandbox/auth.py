"""Credentials: HS256 JWTs from /auth/login and accesskeys, resolved in the server's order.

Order (first non-empty wins): cookie ``token`` -> ``?token=`` -> ``Authorization: Bearer`` -> cookie
``accesskey`` -> ``?accesskey=``. Once a JWT source is present the accesskey is never consulted, so a bad
token fails even next to a good accesskey, and ``Bearer vb_...`` is parsed (and rejected) as a JWT.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from tui.sandbox import errors
from tui.sandbox.encoding import token_time

TOKEN_LIFETIME = dt.timedelta(days=7)

PERMISSION_CUSTOMER_ADMIN = 0x20
PERMISSION_CUSTOMER_MANAGER = 0x40


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_encode(claims: Mapping[str, Any], secret: bytes) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


def jwt_decode(token: str, secret: bytes) -> dict[str, Any] | None:
    """Verify an HS256 token; None if malformed, not HMAC-signed, or the signature is wrong."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(_b64url_decode(parts[0]))
        claims = json.loads(_b64url_decode(parts[1]))
        signature = _b64url_decode(parts[2])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    # The server accepts any HMAC family algorithm with its key; we only ever issue HS256.
    if header.get("alg") != "HS256":
        return None
    expected = hmac.new(secret, f"{parts[0]}.{parts[1]}".encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        return None
    return claims


@dataclass(frozen=True)
class Identity:
    kind: str  # "agent" or "accesskey"
    customer_id: str
    agent_id: str | None
    permission: int
    issued_at: dt.datetime | None = None

    @property
    def is_customer_admin(self) -> bool:
        if self.kind == "accesskey":
            return True
        return bool(self.permission & (PERMISSION_CUSTOMER_ADMIN | PERMISSION_CUSTOMER_MANAGER))


@dataclass
class Credential:
    kind: str  # "token" or "accesskey"
    value: str


def _cookies(headers: Mapping[str, str]) -> dict[str, str]:
    raw = headers.get("cookie")
    if not raw:
        return {}
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return {}
    return {key: morsel.value for key, morsel in jar.items()}


def find_credential(headers: Mapping[str, str], query_string: str) -> Credential | None:
    cookies = _cookies(headers)
    query = parse_qs(query_string, keep_blank_values=True)

    def first(name: str) -> str:
        values = query.get(name)
        return values[0] if values else ""

    if cookies.get("token"):
        return Credential("token", cookies["token"])
    if first("token"):
        return Credential("token", first("token"))
    authorization = headers.get("authorization", "")
    if authorization:
        # The server splits on the literal "Bearer " and takes the second piece.
        pieces = authorization.split("Bearer ")
        if len(pieces) >= 2 and pieces[1]:
            return Credential("token", pieces[1])
    if cookies.get("accesskey"):
        return Credential("accesskey", cookies["accesskey"])
    if first("accesskey"):
        return Credential("accesskey", first("accesskey"))
    return None


class Authenticator:
    """Issues and checks credentials for the single seeded customer."""

    def __init__(
        self,
        *,
        secret: bytes,
        customer_id: str,
        agent: dict[str, Any],
        username: str,
        password: str,
        accesskey: str,
        accesskey_created: dt.datetime,
    ) -> None:
        self._secret = secret
        self.customer_id = customer_id
        self.agent = agent
        self.username = username
        self.password = password
        self.accesskey = accesskey
        self._accesskey_created = accesskey_created
        # Fault injection: credentials issued before this instant count as expired.
        self.expired_before: dt.datetime | None = None

    def login(self, username: str, password: str, now: dt.datetime) -> str | None:
        if not hmac.compare_digest(username.encode(), self.username.encode()) or not hmac.compare_digest(
            password.encode(), self.password.encode()
        ):
            return None
        claims = {
            "type": "agent",
            "agent": self.agent,
            "expire": token_time(now + TOKEN_LIFETIME),
        }
        return jwt_encode(claims, self._secret)

    def authenticate(self, headers: Mapping[str, str], query_string: str, now: dt.datetime) -> Identity:
        credential = find_credential(headers, query_string)
        if credential is None:
            raise errors.authentication_required()
        if credential.kind == "token":
            return self._check_token(credential.value, now)
        return self._check_accesskey(credential.value)

    def _check_token(self, token: str, now: dt.datetime) -> Identity:
        claims = jwt_decode(token, self._secret)
        if claims is None:
            raise errors.invalid_credentials()
        expire = claims.get("expire")
        # The server compares the expiry string with the current time in the same layout.
        if not isinstance(expire, str) or expire < token_time(now):
            raise errors.invalid_credentials()
        agent = claims.get("agent")
        if claims.get("type", "agent") not in ("agent", "") or not isinstance(agent, dict):
            raise errors.invalid_credentials()
        customer_id = agent.get("customer_id")
        if not isinstance(customer_id, str):
            raise errors.invalid_credentials()
        # expire_tokens fault: every token issued before the fault (expiry = issue + 7 days) is refused.
        if self.expired_before is not None and expire <= token_time(self.expired_before + TOKEN_LIFETIME):
            raise errors.invalid_credentials()
        permission = agent.get("permission", 0)
        return Identity(
            kind="agent",
            customer_id=customer_id,
            agent_id=str(agent.get("id", "")) or None,
            permission=permission if isinstance(permission, int) else 0,
        )

    def _check_accesskey(self, key: str) -> Identity:
        if not hmac.compare_digest(key.encode(), self.accesskey.encode()):
            raise errors.invalid_credentials()
        if self.expired_before is not None and self._accesskey_created < self.expired_before:
            raise errors.invalid_credentials()
        return Identity(kind="accesskey", customer_id=self.customer_id, agent_id=None, permission=0)
