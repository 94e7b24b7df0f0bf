"""Warnings of the standalone sandbox on stderr: one line each, and never a flood.

Under a connection storm the event loop and uvicorn can log the same failure thousands of times a
second, each with a traceback. This handler writes one line per record (no traceback), lets a burst of
them through, then only counts and reports how many it held back.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

LOGGERS = ("asyncio", "uvicorn", "tui.sandbox")


class CondensingHandler(logging.Handler):
    """At most ``burst`` lines, refilled at ``per_second``; the rest are counted and summarised."""

    def __init__(self, stream: TextIO | None = None, *, burst: int = 10, per_second: float = 1.0) -> None:
        super().__init__(logging.WARNING)
        self.stream = stream if stream is not None else sys.stderr
        self.burst = burst
        self.per_second = per_second
        self._tokens = float(burst)
        self._last = time.monotonic()
        self.suppressed = 0
        self.written = 0

    def emit(self, record: logging.LogRecord) -> None:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.per_second)
        self._last = now
        if self._tokens < 1:
            self.suppressed += 1
            return
        self._tokens -= 1
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            message = f"{message}: {record.exc_info[1]!r}"
        line = " ".join(message.split())[:300]
        prefix = ""
        if self.suppressed:
            prefix = f"voipbin-tui sandbox: ({self.suppressed} similar messages suppressed)\n"
            self.suppressed = 0
        try:
            self.stream.write(f"{prefix}voipbin-tui sandbox: {record.levelname.lower()}: {line}\n")
            self.stream.flush()
            self.written += 1
        except (OSError, ValueError):
            pass


def install(stream: TextIO | None = None) -> CondensingHandler:
    """Route the server's warnings through one condensing handler (instead of Python's last resort)."""
    handler = CondensingHandler(stream)
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.propagate = False
    return handler


def uninstall(handler: CondensingHandler) -> None:
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.removeHandler(handler)
        logger.propagate = True
