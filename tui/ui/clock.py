"""Where the console reads the time, so snapshot tests can pin it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Literal

# How transcript times are shown: the wall clock, the wall clock to the millisecond, or since the call began.
TimeMode = Literal["wall", "wall-ms", "relative"]
TIME_MODES: tuple[TimeMode, ...] = ("wall", "wall-ms", "relative")


@dataclass(slots=True)
class UiClock:
    """Wall and monotonic time as the widgets see them.

    ``tz`` is the zone transcript times are shown in (``None``: the machine's local zone).
    ``elapsed`` pins the call timer when set; tests use it so snapshots do not depend on timing.
    """

    tz: tzinfo | None = None
    elapsed: float | None = None

    @classmethod
    def frozen(cls, elapsed: float = 83.0) -> UiClock:
        return cls(tz=UTC, elapsed=elapsed)

    @property
    def is_frozen(self) -> bool:
        return self.elapsed is not None

    def monotonic(self) -> float:
        return time.monotonic()

    def clock_time(self, at: datetime) -> str:
        """``HH:MM:SS`` of an aware datetime in the display zone."""
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        return at.astimezone(self.tz).strftime("%H:%M:%S")

    def stamp(self, at: datetime, mode: TimeMode = "wall", origin: datetime | None = None) -> str:
        """A transcript time: ``12:00:01``, ``12:00:01.234`` or call-relative ``T+0:12.345``."""
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        if mode == "relative" and origin is not None:
            return relative_time(at, origin)
        if mode == "wall":
            return self.clock_time(at)
        local = at.astimezone(self.tz)
        return local.strftime("%H:%M:%S.") + f"{local.microsecond // 1000:03d}"

    def clock_time_ms(self, epoch: float) -> str:
        at = datetime.fromtimestamp(epoch, UTC).astimezone(self.tz)
        return at.strftime("%H:%M:%S.") + f"{at.microsecond // 1000:03d}"

    def call_elapsed(self, measured: float | None) -> float | None:
        if measured is None:
            return None
        return self.elapsed if self.elapsed is not None else measured


def relative_time(at: datetime, origin: datetime) -> str:
    """``T+0:12.345`` (``T+1:02:03.004`` past an hour; ``T-0:00.200`` for a line stamped before the origin)."""
    if origin.tzinfo is None:
        origin = origin.replace(tzinfo=UTC)
    ms = round((at - origin).total_seconds() * 1000)
    sign = "+" if ms >= 0 else "-"
    hours, rest = divmod(abs(ms), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    head = f"{hours}:{minutes:02d}" if hours else f"{minutes}"
    return f"T{sign}{head}:{seconds:02d}.{millis:03d}"
