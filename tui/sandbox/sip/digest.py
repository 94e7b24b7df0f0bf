"""HTTP digest authentication for SIP (RFC 2617 / RFC 7616, MD5 with qop=auth).

Nonces are ``time.hmac`` so they need no table; one expires after ``NONCE_LIFETIME`` seconds and is then
answered with ``stale=true`` so a phone re-authenticates without asking its user again.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

NONCE_LIFETIME = 300.0
_PAIR = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)')


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def parse_credentials(value: str) -> dict[str, str]:
    """The fields of an ``Authorization: Digest k=v, …`` header (lower-cased names)."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        return {}
    out: dict[str, str] = {}
    for name, raw in _PAIR.findall(rest):
        out[name.lower()] = raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw
    return out


def expected_response(
    *, username: str, realm: str, password: str, method: str, uri: str, nonce: str, nc: str, cnonce: str, qop: str
) -> str:
    ha1 = md5_hex(f"{username}:{realm}:{password}")
    ha2 = md5_hex(f"{method}:{uri}")
    if qop:
        return md5_hex(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return md5_hex(f"{ha1}:{nonce}:{ha2}")


@dataclass
class Verdict:
    ok: bool
    stale: bool = False


class DigestAuth:
    def __init__(self, lifetime: float = NONCE_LIFETIME) -> None:
        self._secret = secrets.token_bytes(32)
        self._lifetime = lifetime

    def nonce(self) -> str:
        stamp = f"{time.time():.3f}"
        mac = hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{stamp}.{mac}"

    def _nonce_state(self, nonce: str) -> str:
        """``fresh``, ``stale`` or ``bad``."""
        stamp, _, mac = nonce.rpartition(".")
        good = hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        if not hmac.compare_digest(mac, good):
            return "bad"
        try:
            age = time.time() - float(stamp)
        except ValueError:
            return "bad"
        return "fresh" if -5.0 <= age <= self._lifetime else "stale"

    def challenge(self, realm: str, *, stale: bool = False) -> str:
        value = f'Digest realm="{realm}", nonce="{self.nonce()}", algorithm=MD5, qop="auth"'
        return value + (", stale=true" if stale else "")

    def verify(self, fields: dict[str, str], *, method: str, realm: str, username: str, password: str) -> Verdict:
        if fields.get("username") != username or fields.get("realm") != realm:
            return Verdict(False)
        if fields.get("algorithm", "MD5").upper() != "MD5":
            return Verdict(False)
        qop = fields.get("qop", "")
        if qop not in ("", "auth"):
            return Verdict(False)
        nonce = fields.get("nonce", "")
        state = self._nonce_state(nonce)
        if state == "bad":
            return Verdict(False)
        want = expected_response(
            username=username,
            realm=realm,
            password=password,
            method=method,
            uri=fields.get("uri", ""),
            nonce=nonce,
            nc=fields.get("nc", ""),
            cnonce=fields.get("cnonce", ""),
            qop=qop,
        )
        if not hmac.compare_digest(want, fields.get("response", "").lower()):
            return Verdict(False)
        if state == "stale":
            return Verdict(False, stale=True)
        return Verdict(True)
