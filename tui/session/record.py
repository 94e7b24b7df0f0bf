"""The session record: one JSON object per line for every event, request and state change.

It is the full history of a session (the screen keeps only the tail), the input of exports and of the
future replay mode. Every line passes through redaction before it reaches the disk, so a record can be
shared without leaking a token or an accesskey.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from tui.voipbin.redact import redact_text

log = logging.getLogger(__name__)

RECORD_VERSION = 1


class SessionRecorder:
    """Append-only JSONL writer; cheap per line, flushed at state changes and on close."""

    def __init__(self, path: Path | None, secrets: Iterable[str] = ()) -> None:
        self.path = path
        self._secrets = [s for s in secrets if s]
        self._fh: IO[str] | None = None
        self._t0 = time.monotonic()
        self.lines_written = 0
        self.failed: str | None = None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                self._fh = os.fdopen(fd, "a", encoding="utf-8", buffering=1 << 16)
            except OSError as exc:
                # A read-only disk must not stop a call; the failure is shown in the summary instead.
                self.failed = f"cannot write session record {path}: {exc.strerror}"
                log.warning("%s", self.failed)
        self.write("record", version=RECORD_VERSION)

    @property
    def active(self) -> bool:
        return self._fh is not None

    def add_secret(self, secret: str | None) -> None:
        if secret and secret not in self._secrets:
            self._secrets.append(secret)

    def write(self, type_: str, /, *, flush: bool = False, **fields: Any) -> None:
        if self._fh is None:
            return
        entry = {
            "t": datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "mono": round(time.monotonic() - self._t0, 6),
            "type": type_,
            **fields,
        }
        try:
            line = json.dumps(entry, ensure_ascii=False, default=_default, separators=(",", ":"))
            self._fh.write(redact_text(line, self._secrets) + "\n")
            self.lines_written += 1
            if flush:
                self._fh.flush()
        except (OSError, ValueError) as exc:
            self.failed = f"session record stopped: {exc}"
            log.warning("%s", self.failed)
            self._close_quietly()

    def flush(self) -> None:
        if self._fh is not None:
            try:
                self._fh.flush()
            except OSError:
                self._close_quietly()

    def close(self) -> None:
        if self._fh is not None:
            self.write("end", flush=True)
        self._close_quietly()

    def _close_quietly(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            try:
                fh.close()
            except OSError:
                pass


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=False)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return repr(value)


def read_record(path: Path) -> Iterator[dict[str, Any]]:
    """The entries of a record; lines that do not parse (a torn last line) are skipped."""
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict):
                yield entry


def record_path(directory: Path, call_hint: str = "") -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    suffix = f"-{call_hint[:8]}" if call_hint else ""
    base = directory / f"session-{stamp}{suffix}.jsonl"
    n = 1
    path = base
    while path.exists():
        n += 1
        path = base.with_name(f"{base.stem}-{n}.jsonl")
    return path
