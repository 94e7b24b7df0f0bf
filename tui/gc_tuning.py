"""The cycle collector kept off the event loop, for the processes we own (the console, scenario runs).

Under a transcript burst the console's young objects (rows, strips, messages) filled generation 1 so fast
that its collections took 10-30 ms each, several a second, with the loop standing still: key presses
waited behind them (bench: ``keystroke_p99_ms_under_burst``). Collecting generation 0 after 10 000 net
allocations instead of 700 makes those collections rare and still short (measured under the same burst:
two pauses over 3 ms in 10 s, the longest 12.7 ms, against about twenty of 3-32 ms). Nearly every object
dies by reference counting, so memory does not grow. ``gc.freeze`` moves what start-up made out of the
collector's sight for good (reference counting still frees it).

Only the entry points call this, never an import: a host application keeps its own settings.
"""

from __future__ import annotations

import gc
from typing import Final

#: gen0 after this many net allocations (default 700); gen1 every 20 gen0 runs, gen2 every 10 gen1 runs.
GC_THRESHOLDS: Final = (10_000, 20, 10)


def tune_collector(*, collect_first: bool = False) -> None:
    """Freeze what exists now and collect the young generation less often (idempotent).

    ``collect_first`` runs a full collection before the freeze (a few ms): worth it once start-up garbage
    is known to exist, not on the console's path to its first frame.
    """
    if collect_first:
        gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
