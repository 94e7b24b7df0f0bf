"""Ctrl+C and SIGTERM during a scenario: cancel it (its clean-up still hangs up and deletes the speaking
stream), then end the pytest session as "interrupted" (exit status 2).

``asyncio.run`` alone only does this for SIGINT, and only when SIGINT has Python's default handler: a run
started in the background by a shell without job control inherits SIGINT ignored, and a CI job that is
cancelled or times out is usually sent SIGTERM. Either would leave a real call live, so both signals are
taken here for the length of the call, as ``watch`` and ``phone`` take them. A second signal while the
clean-up runs ends the run at once, as a second Ctrl+C does under ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_interruptibly(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(main())`` where SIGINT and SIGTERM cancel ``main`` and then raise KeyboardInterrupt."""
    received: list[int] = []

    async def guarded() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None

        def on_signal(signum: signal.Signals) -> None:
            received.append(signum)
            if len(received) > 1:
                raise KeyboardInterrupt
            task.cancel()

        restore: list[tuple[signal.Signals, Any]] = []
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                previous = signal.getsignal(signum)
                try:
                    loop.add_signal_handler(signum, on_signal, signum)
                except (ValueError, RuntimeError, NotImplementedError):
                    continue
                restore.append((signum, previous))
        try:
            return await main()
        finally:
            for signum, previous in restore:
                loop.remove_signal_handler(signum)
                # remove_signal_handler leaves SIGINT at Python's default: put back what was there (an
                # inherited "ignore", or asyncio.run's own handler, which it checks for on the way out).
                with contextlib.suppress(TypeError, ValueError):
                    signal.signal(signum, previous if previous is not None else signal.SIG_DFL)

    try:
        return asyncio.run(guarded())
    except asyncio.CancelledError:
        if received:
            raise KeyboardInterrupt from None
        raise


@contextlib.contextmanager
def interrupts_end_the_session() -> Iterator[None]:
    """For a whole ``voipbin-tui test`` run: SIGTERM ends it as Ctrl+C does (pytest's "interrupted", with
    ``--jobs`` the workers' calls cleaned up by each worker), and an inherited "ignore SIGINT" is lifted."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous_term = signal.signal(signal.SIGTERM, _keyboard_interrupt)
    previous_int = signal.getsignal(signal.SIGINT)
    if previous_int == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        if previous_int == signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def _keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
