"""SIGHUP and SIGTERM end the console the way "Leave running & quit" does, not by killing it mid-write.

An SSH drop sends SIGHUP, a `kill` SIGTERM. Python's default for both ends the process at once: the
speaking stream we opened stays active on VoIPBIN, the session record has no end, and a terminal that
is still there is left in the alternate screen with mouse reporting on. Here the first signal starts the
ordinary shutdown (the call is left running, our streams are stopped and deleted, the record closed, the
terminal restored); a second one, or the shutdown overrunning its deadline, exits at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable

log = logging.getLogger(__name__)

EXIT_SIGNALS = (signal.SIGHUP, signal.SIGTERM)
# How long the ordinary shutdown may take after a signal before the process exits regardless.
FORCE_AFTER = 12.0


def install(loop: asyncio.AbstractEventLoop, shutdown: Callable[[str], None]) -> Callable[[], None]:
    """Call ``shutdown(signal_name)`` on the first exit signal; exit hard on a second or after a deadline.

    Returns the function that puts the previous handling back (the app calls it when it unmounts).
    """
    received: list[str] = []

    def force(name: str) -> None:
        log.error("%s: shutdown did not finish in time; exiting now", name)
        logging.shutdown()
        os._exit(128 + signal.Signals[name].value)

    def on_signal(sig: signal.Signals) -> None:
        if received:
            force(sig.name)
        received.append(sig.name)
        log.warning("%s received: leaving the call running, closing our speaking streams and the record", sig.name)
        loop.call_later(FORCE_AFTER, force, sig.name)
        shutdown(sig.name)

    installed: list[signal.Signals] = []
    for sig in EXIT_SIGNALS:
        try:
            loop.add_signal_handler(sig, on_signal, sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no such signal here
            log.debug("cannot handle %s here", sig.name)
        else:
            installed.append(sig)

    def uninstall() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return uninstall
