"""Keep secrets out of everything we log, show or record.

Two tools:

* :func:`redact_url` hides the values of credential-carrying query parameters
  (``token``, ``accesskey``, ``password``) and any ``user:password@`` part.
* :func:`redact_text` removes known secret values from free text and, as a second
  line of defence, anything that *looks* like a credential (a JWT, a ``vb_``
  accesskey, ``Bearer …``, ``token=…``).

Both are pure string functions with no dependencies, so every layer can afford
to call them before writing anything anywhere.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable

__all__ = [
    "REDACTED",
    "SECRET_QUERY_PARAMS",
    "RedactingFilter",
    "TextRedactor",
    "install_log_redaction",
    "redact_text",
    "redact_url",
]

REDACTED = "***"

#: Query parameters whose values are credentials.
SECRET_QUERY_PARAMS: tuple[str, ...] = ("token", "accesskey", "access_key", "password", "api_key")

_PARAM_RE = re.compile(
    r"(?P<key>(?:^|(?<=[?&;\s\"'(]))(?:" + "|".join(SECRET_QUERY_PARAMS) + r")=)(?P<value>[^&#\s\"';)]*)",
    re.IGNORECASE,
)
# Remote text is redacted too, so no pattern may backtrack quadratically: a match starts only where a
# run of its characters starts, and runs are bounded (an unbounded scheme run made a 3 MB error message
# take minutes).
_USERINFO_RE = re.compile(
    r"(?<![a-zA-Z0-9+.-])(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]{0,31}://)(?P<user>[^/@:\s]*):(?P<pw>[^/@\s]*)@"
)
# A JWT: three base64url segments, the first one starting with the encoding of '{"'.
_JWT_RE = re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,2048}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")
# VoIPBIN accesskeys are "vb_" followed by random characters.
_ACCESSKEY_RE = re.compile(r"\bvb_[A-Za-z0-9_-]{6,}")
_BEARER_RE = re.compile(r"(?P<prefix>\bBearer\s+)(?P<value>[^\s,;\"']+)", re.IGNORECASE)
_JSON_SECRET_RE = re.compile(
    r"(?P<key>\"(?:token|accesskey|access_key|password|webhook_secret)\"\s*:\s*\")(?P<value>(?:[^\"\\]|\\.)*)\"",
    re.IGNORECASE,
)


def _may_match_a_pattern(text: str) -> bool:
    """False when no credential pattern above can match: each needs one of these substrings (a chain of
    ``in`` tests, four times faster than one search of their alternation, on every string of every frame)."""
    return (
        "=" in text  # _PARAM_RE
        or "@" in text  # _USERINFO_RE
        or '"' in text  # _JSON_SECRET_RE
        or "vb_" in text  # _ACCESSKEY_RE
        or "eyJ" in text  # _JWT_RE
        or "Bearer" in text  # _BEARER_RE, as redact_text tests for it
        or "bearer" in text
    )


# Secrets shorter than this are only replaced as whole words: replacing a
# one-letter password everywhere would make every message unreadable.
_MIN_FREE_MATCH = 4


def redact_url(url: str) -> str:
    """Return ``url`` with credential query values and passwords replaced by ``***``.

    Works on full URLs, bare query strings and request lines; anything that is
    not a credential is left exactly as it was.
    """
    text = str(url)
    if "=" in text:
        text = _PARAM_RE.sub(lambda m: m.group("key") + REDACTED, text)
    if "@" in text:
        text = _USERINFO_RE.sub(lambda m: f"{m.group('scheme')}{m.group('user')}:{REDACTED}@", text)
    return text


def redact_text(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Replace every occurrence of the given secrets, and anything credential-like, by ``***``.

    ``secrets`` may contain ``None`` or empty strings (ignored). Longer secrets
    are replaced first so that a secret containing another one is fully hidden.
    """
    out = str(text)
    values = sorted({s for s in secrets if s}, key=len, reverse=True)
    for secret in values:
        if len(secret) >= _MIN_FREE_MATCH:
            out = out.replace(secret, REDACTED)
        else:
            out = re.sub(r"(?<!\w)" + re.escape(secret) + r"(?!\w)", REDACTED, out)
    if not _may_match_a_pattern(out):
        return out
    out = redact_url(out)
    if "Bearer" in out or "bearer" in out:
        out = _BEARER_RE.sub(lambda m: m.group("prefix") + REDACTED, out)
    if "eyJ" in out:
        out = _JWT_RE.sub(REDACTED, out)
    if "vb_" in out:
        out = _ACCESSKEY_RE.sub(REDACTED, out)
    if '"' in out:
        out = _JSON_SECRET_RE.sub(lambda m: m.group("key") + REDACTED + '"', out)
    return out


class TextRedactor:
    """``redact_text`` with fixed secrets, for callers that redact many small strings (the session record
    cleans every string of every frame): the secrets are sorted once, and a string with no secret that no
    pattern can match comes back at once, which is what ``redact_text`` would return."""

    __slots__ = ("_keys", "_long", "_short", "_values")

    # Field names repeat from frame to frame; a remote party could send endless new ones, so the memo is
    # bounded (cleared when full).
    KEY_MEMO = 2048

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._values = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._long = [s for s in self._values if len(s) >= _MIN_FREE_MATCH]
        short = [s for s in self._values if len(s) < _MIN_FREE_MATCH]
        self._short = re.compile("|".join(re.escape(s) for s in short)) if short else None
        self._keys: dict[str, str] = {}

    def key(self, name: str) -> str:
        """The redacted form of a field name, remembered."""
        done = self._keys.get(name)
        if done is None:
            if len(self._keys) >= self.KEY_MEMO:
                self._keys.clear()
            done = self._keys[name] = self(name)
        return done

    def __call__(self, text: str) -> str:
        if _may_match_a_pattern(text) or (self._short is not None and self._short.search(text) is not None):
            return redact_text(text, self._values)
        for secret in self._long:
            if secret in text:
                return redact_text(text, self._values)
        return text


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites each record's message through :func:`redact_text`.

    Attach it to a *logger* (not a handler) to clean records at the source, before
    any handler sees them. ``secrets`` is a callable returning the current secret
    values (credentials change on re-login); the credential-shaped patterns are
    redacted even without it.
    """

    def __init__(self, secrets: Callable[[], Iterable[str | None]] | None = None, name: str = "") -> None:
        super().__init__(name)
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave the record alone
            return True
        secrets: Iterable[str | None] = ()
        if self._secrets is not None:
            try:
                secrets = tuple(self._secrets())
            except Exception:
                secrets = ()
        cleaned = redact_text(message, secrets)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


_INSTALLED: set[str] = set()


def install_log_redaction(*logger_names: str) -> None:
    """Attach a pattern-based :class:`RedactingFilter` to third-party loggers (idempotent).

    ``httpx`` logs every request URL at INFO, query string included, which would
    expose a ``?accesskey=``; the client calls this for ``httpx``/``httpcore``.
    """
    for name in logger_names:
        if name in _INSTALLED:
            continue
        logging.getLogger(name).addFilter(RedactingFilter())
        _INSTALLED.add(name)
