"""Logging to a file under the user state dir; never to the terminal, never a secret."""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from tui.voipbin.redact import RedactingFilter
from tui.voipbin.safetext import safe_line, safe_text

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
# One record's message at most: a server's 50 MB error text is not worth 50 MB of log.
MESSAGE_LIMIT = 64_000
_configured: list[logging.Handler] = []


class SafeFormatter(logging.Formatter):
    """Messages quote remote text: each one becomes one line with controls escaped (so no message can
    forge a log line or send ESC sequences to whoever runs ``tail`` on the file), bounded in length.
    Tracebacks keep their own line breaks; the rest of their text is escaped as well."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = safe_line(record.message, MESSAGE_LIMIT)
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        # The traceback text may be cached on the record by another handler, unescaped: escape the
        # whole result (the message part is already one line).
        return safe_text(super().format(record), tabs=True, newlines=True, limit=4 * MESSAGE_LIMIT)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Every file it opens, the first and each one after a rollover, is readable by its owner only."""

    def _open(self) -> io.TextIOWrapper:  # type: ignore[type-arg,unused-ignore]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.fchmod(fd, 0o600)
        except OSError:
            pass
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


def configure_file_logging(
    path: Path, level: str = "INFO", secrets: Callable[[], Iterable[str | None]] | None = None
) -> Path | None:
    """Send every log record to ``path`` (rotated at 2 MB) and nowhere else. Returns the path used.

    If the file cannot be opened, logging is silenced rather than falling back to stderr, which would
    scribble over the terminal UI.
    """
    root = logging.getLogger()
    for old in _configured:
        root.removeHandler(old)
        old.close()
    _configured.clear()
    handler: logging.Handler
    used: Path | None = path
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler = PrivateRotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        handler, used = logging.NullHandler(), None
    handler.setFormatter(SafeFormatter(_FORMAT))
    # On the handler, so that records from every logger (ours, httpx, websockets, uvicorn) are cleaned.
    handler.addFilter(RedactingFilter(secrets))
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    # Chatty libraries stay at WARNING unless we are debugging.
    for name in ("httpx", "httpcore", "websockets", "uvicorn", "asyncio", "markdown_it"):
        logging.getLogger(name).setLevel(logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING)
    # The last-resort handler prints to stderr when no handler matches; ours always matches.
    logging.lastResort = None
    _configured.append(handler)
    return used
