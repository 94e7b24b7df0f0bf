"""Process-wide settings for a process that runs scenario calls: the cycle collector kept off the hot path.

With many concurrent calls a quarter of the runner's CPU went to the cycle collector, and a full
collection walked every live call's state while the event loop stood still (100-300 ms measured at 200
calls): events waited in the socket while the expectations they satisfied counted as late. So, once the
process has started and collected its scenarios, what exists is frozen (``gc.freeze``: the collector
skips it from now on; reference counting still frees it) and the young generation is collected after
10 000 net allocations instead of 700: fewer, still short collections (measured: GC time down by about
3/4, longest pause under 20 ms). Nearly all of a call's objects die by reference counting, so memory does
not grow. Only for processes the runner owns (``voipbin-tui test`` and the pytest session running
scenario items), never on import: a host application keeps its own settings.
"""

from __future__ import annotations

from tui.gc_tuning import GC_THRESHOLDS, tune_collector

__all__ = ["GC_THRESHOLDS", "tune_for_scenario_calls"]


def tune_for_scenario_calls() -> None:
    """Freeze what start-up and collection made, and collect the young generation less often (idempotent)."""
    tune_collector(collect_first=True)
