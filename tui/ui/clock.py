"""Where the console reads the time, so snapshot tests can pin it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo


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

    def clock_time_ms(self, epoch: float) -> str:
        at = datetime.fromtimestamp(epoch, UTC).astimezone(self.tz)
        return at.strftime("%H:%M:%S.") + f"{at.microsecond // 1000:03d}"

    def call_elapsed(self, measured: float | None) -> float | None:
        if measured is None:
            return None
        return self.elapsed if self.elapsed is not None else measured
