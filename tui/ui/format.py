"""Small pure formatting helpers shared by the widgets (no Textual, no session imports)."""

from __future__ import annotations

import math
from typing import Final
from urllib.parse import urlsplit

# The dial form and scenario files read durations the same way; the parser lives below the UI.
from tui.durations import parse_sleep as parse_sleep
from tui.durations import sleep_text as sleep_text

# Call status → the TCSS colour variable that paints it. The status word itself is always printed, so the
# meaning survives NO_COLOR and monochrome terminals.
STATUS_COLOUR: Final[dict[str, str]] = {
    "dialing": "$accent",
    "ringing": "$warning",
    "progressing": "$success",
    "terminating": "$warning",
    "canceling": "$warning",
    "hangup": "$error",
}

SAY_STATE_COLOUR: Final[dict[str, str]] = {
    "queued": "$text-muted",
    "sending": "$accent",
    "sent": "$primary",
    "heard": "$success",
    "flushed": "$warning",
    "failed": "$error",
}

SPEAKING_COLOUR: Final[dict[str, str]] = {
    "active": "$success",
    "opening": "$accent",
    "waiting": "$text-muted",
    "stopping": "$warning",
    "stopped": "$warning",
    "failed": "$error",
    "closed": "$text-muted",
    "none": "$text-muted",
}

# Connection state → (label, colour). Text first, colour second, for the same reason as above.
CONNECTION_COLOUR: Final[dict[str, str]] = {
    "connecting": "$accent",
    "connected": "$success",
    "reconnecting": "$warning",
    "reconnected": "$success",
    "closed": "$error",
}


def duration(seconds: float | None) -> str:
    """``m:ss`` or ``h:mm:ss``; ``—`` when unknown."""
    if seconds is None or math.isnan(seconds):
        return "—"
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def latency(ms: float | None) -> str:
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s"


def lifetime(seconds: float | None) -> str:
    """What is left of a credential: ``6d 23h``, ``3h 05m``, ``12m``, ``expired``."""
    if seconds is None:
        return "no expiry"
    if seconds <= 0:
        return "expired"
    minutes = int(seconds // 60)
    days, rem = divmod(minutes, 24 * 60)
    hours, mins = divmod(rem, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins:02d}m"
    return f"{max(1, mins)}m"


def short_id(value: str | None, size: int = 8) -> str:
    return (value or "")[:size]


def host_of(url: str) -> str:
    try:
        return urlsplit(url).netloc or url
    except ValueError:
        return url


def one_line(text: str, limit: int = 400) -> str:
    # Only the head can be shown: splitting a 5 MB message whole would stall the screen.
    flat = " ".join(text[: limit * 4 + 16].split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
