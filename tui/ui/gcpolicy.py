"""When Python's cycle collector may run, so that it never pauses a live call for tens of milliseconds.

A full collection walks every object that has survived long enough; during a call that is the
transcript, the drawn rows and recent events, and a walk costs 20-50 ms: a visible stall and the p99
of event-to-screen latency (bench/). So while a call is live the survivors are frozen every second
(``gc.freeze`` is O(1): it moves them out of the collector's reach); the young objects are still
collected as usual. Frozen objects are still freed by reference counting, which is how nearly all of
ours die; the few reference cycles among them are reclaimed by one full collection when the call ends,
a moment when a pause costs nothing.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger("tui.ui")


class GcPolicy:
    def __init__(self) -> None:
        self.freezes = 0
        self.last_full_ms: float | None = None

    def freeze(self) -> None:
        gc.freeze()
        self.freezes += 1

    def tick(self, call_live: bool) -> None:
        if call_live:
            self.freeze()

    def full_collection(self) -> None:
        """Reclaim cycles among frozen objects, then freeze what is left (the app's own long-lived state)."""
        started = time.perf_counter()
        gc.unfreeze()
        found = gc.collect()
        gc.freeze()
        self.last_full_ms = (time.perf_counter() - started) * 1000
        log.debug("full collection after the call: %d objects, %.0f ms", found, self.last_full_ms)
