"""The bench process stands in for the console's or the runner's: it applies the settings that command
applies to its process, and undoes them afterwards so the next measurement starts from the interpreter's
defaults."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def standing_in_for(tune: Callable[[], None]) -> Iterator[None]:
    """``tune`` (the command's own function) for the duration, then the collector as it was."""
    thresholds = gc.get_threshold()
    tune()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
