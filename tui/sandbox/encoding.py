"""JSON and value encoding the way VoIPBIN's Go services produce it.

- ``time.Time`` marshals as RFC 3339 with the fractional part's trailing zeros trimmed.
- List cursors (``next_page_token``) use exactly six fractional digits.
- ``tm_transcript`` is an offset written as a time on day 0001-01-01.
- ``uuid.UUID`` is a byte array: never omitted, the nil value is the all-zero string.
- ``encoding/json`` escapes ``<``, ``>``, ``&``, U+2028 and U+2029 and writes other text as UTF-8.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

ZERO_UUID = "00000000-0000-0000-0000-000000000000"
_DAY_ZERO = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
_HEX = frozenset("0123456789abcdefABCDEF")


def go_time(value: dt.datetime) -> str:
    """RFC 3339 in UTC with a trimmed fraction, e.g. ``2026-02-21T10:05:02.2Z``."""
    value = value.astimezone(dt.UTC)
    # strftime does not zero-pad years below 1000 on every platform (day 0001 matters here).
    base = f"{value.year:04d}-" + value.strftime("%m-%dT%H:%M:%S")
    if value.microsecond:
        base += "." + f"{value.microsecond:06d}".rstrip("0")
    return base + "Z"


def go_time_ns(value: dt.datetime, extra_ns: int) -> str:
    """Like :func:`go_time` with nanoseconds: ``extra_ns`` (0-999) below the microsecond."""
    value = value.astimezone(dt.UTC)
    base = f"{value.year:04d}-" + value.strftime("%m-%dT%H:%M:%S")
    fraction = f"{value.microsecond:06d}{extra_ns % 1000:03d}".rstrip("0")
    return base + ("." + fraction if fraction else "") + "Z"


def go_time_or_none(value: dt.datetime | None) -> str | None:
    return None if value is None else go_time(value)


def token_time(value: dt.datetime) -> str:
    """The ``2006-01-02T15:04:05.000000Z`` layout used for page tokens and JWT expiry."""
    value = value.astimezone(dt.UTC)
    return f"{value.year:04d}-" + value.strftime("%m-%dT%H:%M:%S.%fZ")


def offset_time(seconds: float) -> str:
    """An elapsed duration written as a time on 0001-01-01 (``time.Time{}.Add(elapsed)``)."""
    return go_time(_DAY_ZERO + dt.timedelta(seconds=max(0.0, seconds)))


def parse_time(text: str) -> dt.datetime | None:
    """Parse a timestamp such as a page token; None when it is not one."""
    candidate = text.strip()
    if not candidate:
        return None
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    if "." in candidate:
        # Python accepts at most six fractional digits; Go may send nine.
        head, _, rest = candidate.partition(".")
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        candidate = head + ("." + digits[:6].ljust(6, "0") if digits else "") + rest
    try:
        parsed = dt.datetime.fromisoformat(candidate.replace(" ", "T", 1))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def parse_uuid(text: str) -> uuid.UUID | None:
    """Accept the spellings gofrs/uuid accepts (canonical, braced, urn, bare hex); None otherwise."""
    value = text
    if len(value) == 45 and value[:9].lower() == "urn:uuid:":
        value = value[9:]
    elif len(value) == 38 and value[0] == "{" and value[-1] == "}":
        value = value[1:-1]
    if len(value) == 36:
        if value[8] != "-" or value[13] != "-" or value[18] != "-" or value[23] != "-":
            return None
        value = value.replace("-", "")
    if len(value) != 32 or not set(value) <= _HEX:
        return None
    return uuid.UUID(hex=value)


def uuid_or_nil(text: Any) -> uuid.UUID:
    """``uuid.FromStringOrNil``: anything unparseable is the nil UUID."""
    if not isinstance(text, str):
        return uuid.UUID(int=0)
    return parse_uuid(text) or uuid.UUID(int=0)


def new_id() -> str:
    return str(uuid.uuid4())


_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def dumps(payload: Any) -> str:
    """Compact JSON as Go's ``json.Marshal`` writes it."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    # These characters can only occur inside JSON strings, so a plain replace is safe.
    if any(ch in text for ch in _ESCAPES):
        for ch, repl in _ESCAPES.items():
            text = text.replace(ch, repl)
    return text
