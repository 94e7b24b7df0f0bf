"""Speed-scaled time for the simulation, with lateness accounting.

Simulated durations are divided by ``speed``; timestamps written into resources stay wall-clock UTC so
that they look like the real server's. Every timer records how late it fired, which is what the load
benchmark reports as event lateness.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
from collections.abc import Callable
from typing import Any


class LatenessStats:
    """Bounded record of timer lateness in milliseconds."""

    def __init__(self, keep: int = 50_000) -> None:
        self._samples: collections.deque[float] = collections.deque(maxlen=keep)
        self.count = 0
        self.max_ms = 0.0
        self.late_count = 0

    def record(self, late_s: float, threshold_ms: float = 100.0) -> None:
        late_ms = max(0.0, late_s * 1000.0)
        self._samples.append(late_ms)
        self.count += 1
        if late_ms > self.max_ms:
            self.max_ms = late_ms
        if late_ms > threshold_ms:
            self.late_count += 1

    def percentile(self, q: float) -> float:
        if not self._samples:
            return 0.0
        ordered = sorted(self._samples)
        index = min(len(ordered) - 1, max(0, round(q / 100.0 * (len(ordered) - 1))))
        return ordered[index]

    def reset(self) -> None:
        self._samples.clear()
        self.count = 0
        self.max_ms = 0.0
        self.late_count = 0

    def summary(self) -> dict[str, float | int]:
        return {
            "count": self.count,
            "p50_ms": round(self.percentile(50), 3),
            "p99_ms": round(self.percentile(99), 3),
            "max_ms": round(self.max_ms, 3),
            "over_100ms": self.late_count,
        }


class SimClock:
    """Scales simulated seconds to wall-clock seconds on the running event loop."""

    def __init__(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self.lateness = LatenessStats()

    @staticmethod
    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    @staticmethod
    def monotonic() -> float:
        return asyncio.get_running_loop().time()

    def real(self, sim_seconds: float) -> float:
        return max(0.0, sim_seconds) / self.speed

    async def sleep(self, sim_seconds: float) -> None:
        loop = asyncio.get_running_loop()
        delay = self.real(sim_seconds)
        target = loop.time() + delay
        await asyncio.sleep(delay)
        self.lateness.record(loop.time() - target)

    async def sleep_until(self, loop_deadline: float) -> None:
        """Sleep until a loop-time deadline computed earlier (avoids drift across many steps)."""
        loop = asyncio.get_running_loop()
        delay = loop_deadline - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        self.lateness.record(loop.time() - loop_deadline)

    def deadline(self, sim_seconds: float, start: float | None = None) -> float:
        base = asyncio.get_running_loop().time() if start is None else start
        return base + self.real(sim_seconds)

    def call_at(self, loop_deadline: float, callback: Callable[..., Any], *args: Any) -> asyncio.TimerHandle:
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self.lateness.record(loop.time() - loop_deadline)
            callback(*args)

        return loop.call_at(loop_deadline, fire)

    def call_later(self, sim_seconds: float, callback: Callable[..., Any], *args: Any) -> asyncio.TimerHandle:
        loop = asyncio.get_running_loop()
        delay = self.real(sim_seconds)
        target = loop.time() + delay

        def fire() -> None:
            self.lateness.record(loop.time() - target)
            callback(*args)

        return loop.call_later(delay, fire)
