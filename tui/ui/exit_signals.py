"""SIGHUP and SIGTERM end the console the way "Leave running & quit" does, not by killing it mid-write.

An SSH drop sends SIGHUP, a `kill` SIGTERM. Python's default for both ends the process at once: the
speaking stream we opened stays active on VoIPBIN, the session record has no end, and a terminal that
is still there is left in the alternate screen with mouse reporting on. Here the first signal starts the
ordinary shutdown (the call is left running, our streams are stopped and deleted, the record closed, the
terminal restored); a second one, or the shutdown overrunning its deadline, exits at once.

After SIGHUP the terminal is gone: a write to it fails, which kills Textual's output thread, and the
next frames then block the event loop on its full queue, so the shutdown (and a timer on the loop)
would never run. The terminal's output descriptors are therefore pointed at /dev/null first, and the
deadline is kept by a thread of its own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

EXIT_SIGNALS = (signal.SIGHUP, signal.SIGTERM)
# How long the ordinary shutdown may take after a signal before the process exits regardless.
FORCE_AFTER = 12.0


def detach_from_terminal() -> None:
    """Send what is still drawn to /dev/null instead of a terminal that hung up."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        for stream in (sys.stdout, sys.stderr):
            try:
                fd = stream.fileno()
                if os.isatty(fd):
                    os.dup2(null, fd)
            except (OSError, ValueError, AttributeError):
                continue
    finally:
        os.close(null)


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
        if sig == signal.SIGHUP:
            detach_from_terminal()
        log.warning("%s received: leaving the call running, closing our speaking streams and the record", sig.name)
        watchdog = threading.Timer(FORCE_AFTER, force, args=(sig.name,))
        watchdog.daemon = True
        watchdog.start()
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
