"""Logging to a file under the user state dir; never to the terminal, never a secret."""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from tui.voipbin.redact import RedactingFilter

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_configured: list[logging.Handler] = []


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Every file it opens, the first and each one after a rollover, is created 0600."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
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
        handler = _PrivateRotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
        os.chmod(path, 0o600)
    except OSError:
        handler, used = logging.NullHandler(), None
    handler.setFormatter(logging.Formatter(_FORMAT))
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
