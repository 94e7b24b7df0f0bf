"""Parse the timestamps VoIPBIN sends, whatever their vintage.

The real server writes Go ``time.Time`` values: RFC 3339 in UTC with the
fractional part's trailing zeros trimmed, so 0 to 9 fraction digits
(``2026-02-21T10:05:02.233415Z``, ``…02.2Z``, ``…02Z``). Older docs and the seed
page also show ``""``, ``null`` and the ``"9999-01-01 00:00:00.000000"``
"never" sentinel; all of those mean *unset* and become ``None``.

Transcript ``tm_transcript`` is not a wall time but an offset since the
direction's stream started, encoded on day 0001-01-01
(``"0001-01-01T00:00:03.512Z"`` = 3.512 s): :func:`offset_seconds` turns it
into seconds.

Nothing here raises on bad input: :func:`parse_time` returns ``None`` for
anything it cannot read.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta, timezone

__all__ = [
    "EPOCH_0001",
    "format_go_time",
    "is_unset_time",
    "offset_seconds",
    "parse_time",
]

EPOCH_0001 = datetime(1, 1, 1, tzinfo=UTC)

_TIME_RE = re.compile(
    r"""^\s*
    (?P<y>\d{1,4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})
    (?:[Tt\ ]
      (?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,9})\d*)?)?
    )?
    \s*(?P<tz>[Zz]|(?:UTC)|[+-]\d{2}(?::?\d{2})?)?
    \s*$""",
    re.VERBOSE,
)

_MAX_LEN = 64


def is_unset_time(value: object) -> bool:
    """True for the values that mean "no time": ``None``, ``""`` and the year-9999 sentinel."""
    if value is None:
        return True
    if isinstance(value, str):
        stripped = value.strip()
        return stripped == "" or stripped.startswith("9999-")
    if isinstance(value, datetime):
        return value.year == 9999
    return False


def parse_time(value: object) -> datetime | None:
    """Parse a VoIPBIN timestamp into an aware UTC ``datetime``; ``None`` when unset or unreadable.

    Accepts ``datetime`` objects (naive ones are taken as UTC), RFC 3339 strings
    with 0-9 fraction digits, ``Z`` or ``±HH:MM`` offsets, a space instead of
    ``T``, a missing zone (UTC), and unpadded years (``1-01-01T…``, as
    Python's ``strftime`` writes year 1 on some platforms). Fractions beyond microseconds are
    truncated. Day-0001 values are kept (they are transcript offsets).
    """
    if isinstance(value, datetime):
        if value.year == 9999:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        try:
            return value.astimezone(UTC)
        except (OverflowError, ValueError):
            return None
    if not isinstance(value, str) or not value or len(value) > _MAX_LEN:
        return None
    return _parse_text(value)


@functools.lru_cache(maxsize=4096)
def _parse_text(value: str) -> datetime | None:
    # Cached: every frame about a call repeats its creation and update times (three or so per frame, a
    # few hundred frames a second with many calls), and a datetime is immutable, so sharing one is safe.
    m = _TIME_RE.match(value)
    if m is None:
        return None
    try:
        year = int(m.group("y"))
        if year == 9999:
            return None
        frac = m.group("f") or ""
        micro = int((frac + "000000")[:6]) if frac else 0
        tz = _parse_zone(m.group("tz"))
        dt = datetime(
            year,
            int(m.group("mo")),
            int(m.group("d")),
            int(m.group("h") or 0),
            int(m.group("mi") or 0),
            min(int(m.group("s") or 0), 59),  # a leap second becomes :59
            micro,
            tzinfo=tz,
        )
        if tz is UTC:
            return dt
        return dt.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _parse_zone(text: str | None) -> timezone:
    if not text or text in ("Z", "z", "UTC"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:4]) if len(digits) >= 4 else 0
    if hours > 23 or minutes > 59:
        raise ValueError("bad zone offset")
    if hours == 0 and minutes == 0:
        return UTC
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def offset_seconds(value: object) -> float | None:
    """Seconds encoded by a transcript ``tm_transcript`` offset (a time on day 0001-01-01).

    ``"0001-01-01T00:00:03.512Z"`` → ``3.512``. A number is returned as a float.
    A real wall-clock time (as some docs show) or anything unreadable gives
    ``None``: it is not an offset.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
        return seconds if seconds == seconds and seconds >= 0 else None  # NaN check
    dt = parse_time(value)
    if dt is None or dt.year != 1:
        return None
    return (dt - EPOCH_0001).total_seconds()


def format_go_time(dt: datetime) -> str:
    """Format like the server's page tokens: UTC, exactly six fraction digits, ``Z``."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
