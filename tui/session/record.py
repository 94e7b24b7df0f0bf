"""The session record: one JSON object per line for every event, request and state change.

It is the full history of a session (the screen keeps only the tail), the input of exports and of the
future replay mode. Guarantees:

* every line is written through to the kernel as it is made (one ``write``), so ``kill -9`` loses
  nothing already recorded;
* secrets are redacted in the *values* before encoding, so every line stays valid JSON whatever a
  caller says (``token=a"b``), and a record can be shared without leaking a token or an accesskey;
* one file per process: the file is created with ``O_EXCL`` (a name taken by another process is never
  appended to), mode 0600;
* a flood of duplicate or unrecognised frames is summarised (``frames_suppressed`` lines) instead of
  written one by one;
* a failed write (a full disk) cuts the torn line back off, stops the record and is reported once
  through ``on_failure``; ``failed`` says why, and the call summary says the record is incomplete.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from tui.voipbin.redact import REDACTED, TextRedactor

log = logging.getLogger(__name__)

RECORD_VERSION = 1
#: Duplicate/unrecognised frames written per window before the rest are only counted.
FLOOD_LIMIT: Final = 20
FLOOD_WINDOW_S: Final = 1.0
#: Names taken before giving up on a unique file name.
_NAME_TRIES: Final = 1000
_SECRET_KEYS: Final = frozenset({"token", "accesskey", "access_key", "password", "webhook_secret", "authorization"})
_MAX_DEPTH: Final = 32


class SessionRecorder:
    """Append-only JSONL writer, written through line by line."""

    def __init__(
        self,
        path: Path | None,
        secrets: Iterable[str] = (),
        *,
        flood_limit: int = FLOOD_LIMIT,
        flood_window: float = FLOOD_WINDOW_S,
    ) -> None:
        self.path = path
        self._secrets = [s for s in secrets if s]
        self._redact = TextRedactor(self._secrets)
        self._fd: int | None = None
        self._size = 0
        self._t0 = time.monotonic()
        self.lines_written = 0
        self.failed: str | None = None
        self.on_failure: Callable[[str], None] | None = None
        self._flood = _FloodGate(flood_limit, flood_window)
        if path is not None:
            try:
                self._fd, self.path = _create_unique(path)
            except OSError as exc:
                # A read-only disk must not stop a call; the failure is shown in the summary instead.
                self.failed = f"cannot write session record {path}: {exc.strerror or exc}"
                log.warning("%s", self.failed)
        self.write("record", version=RECORD_VERSION)

    @property
    def active(self) -> bool:
        return self._fd is not None

    @property
    def incomplete(self) -> bool:
        """A record was wanted but some lines could not be written."""
        return self.failed is not None

    @property
    def suppressed(self) -> int:
        """Frames only counted, not written, because of a flood (so far)."""
        return self._flood.total_suppressed

    def add_secret(self, secret: str | None) -> None:
        if secret and secret not in self._secrets:
            self._secrets.append(secret)
            self._redact = TextRedactor(self._secrets)

    def write(self, type_: str, /, *, flush: bool = False, **fields: Any) -> None:
        """One line. ``flush`` is accepted for callers; every line is written through anyway."""
        if self._fd is None:
            return
        now = time.monotonic()
        flood_prone = type_ == "frame" and (fields.get("duplicate") or fields.get("kind") == "unrecognised")
        if flood_prone and not self._flood.admit(fields, now):
            return
        pending = self._flood.take_summary(now)
        if pending is not None:
            self._write_entry("frames_suppressed", now, pending)
        self._write_entry(type_, now, fields)

    def flush(self) -> None:
        """Write the summary of frames suppressed so far (lines themselves are never held back)."""
        if self._fd is None:
            return
        pending = self._flood.take_summary(time.monotonic(), force=True)
        if pending is not None:
            self._write_entry("frames_suppressed", time.monotonic(), pending)

    def close(self) -> None:
        if self._fd is not None:
            self.flush()
            self.write("end")
        self._close_quietly()

    # -- internals --------------------------------------------------------------------------------------

    def _write_entry(self, type_: str, now: float, fields: dict[str, Any]) -> None:
        entry = {
            "t": datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "mono": round(now - self._t0, 6),
            "type": type_,
            **fields,
        }
        try:
            line = json.dumps(_clean(entry, self._redact), ensure_ascii=False, separators=(",", ":"))
        except (ValueError, TypeError, RecursionError) as exc:
            line = json.dumps({"t": entry["t"], "type": type_, "unencodable": type(exc).__name__})
        self._write_line((line + "\n").encode("utf-8", errors="replace"))

    def _write_line(self, data: bytes) -> None:
        fd = self._fd
        if fd is None:
            return
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
        except OSError as exc:
            # Cut a torn line back off, so the record ends with its last whole line.
            try:
                os.ftruncate(fd, self._size)
            except OSError:
                pass
            self._fail(f"session record stopped after {self.lines_written} lines: {exc.strerror or exc}")
            return
        self._size += len(data)
        self.lines_written += 1

    def _fail(self, why: str) -> None:
        self.failed = why
        log.warning("%s", why)
        self._close_quietly()
        callback = self.on_failure
        if callback is not None:
            try:
                callback(why)
            except Exception:
                log.exception("record failure callback failed")

    def _close_quietly(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass


class _FloodGate:
    """Lets a few duplicate/unrecognised frames a second through; counts the others by event."""

    def __init__(self, limit: int, window: float) -> None:
        self._limit = max(1, limit)
        self._window = window
        self._window_start = float("-inf")
        self._admitted = 0
        self._last_key: tuple[object, ...] | None = None
        self._counts: Counter[str] = Counter()
        self._repeats = 0
        self._since: float | None = None
        self.total_suppressed = 0

    def admit(self, fields: dict[str, Any], now: float) -> bool:
        key = (fields.get("kind"), fields.get("event"), fields.get("id"), fields.get("reason"), fields.get("raw"))
        repeat = key == self._last_key
        self._last_key = key
        if now - self._window_start >= self._window:
            self._window_start, self._admitted = now, 0
        # The same frame again and again is worth one line and a count, whatever the rate.
        if not repeat and self._admitted < self._limit:
            self._admitted += 1
            return True
        if self._since is None:
            self._since = now
        self._counts[f"{fields.get('kind')}:{fields.get('event')}"] += 1
        self._repeats += int(repeat)
        self.total_suppressed += 1
        return False

    def take_summary(self, now: float, *, force: bool = False) -> dict[str, Any] | None:
        if not self._counts or self._since is None:
            return None
        if not force and now - self._since < self._window:
            return None
        summary: dict[str, Any] = {
            "count": sum(self._counts.values()),
            "identical_repeats": self._repeats,
            "by_event": dict(self._counts.most_common(20)),
            "seconds": round(now - self._since, 3),
        }
        self._counts.clear()
        self._repeats = 0
        self._since = None
        return summary


def _create_unique(path: Path) -> tuple[int, Path]:
    """Create ``path`` (or ``<stem>-2``, ``-3`` … when taken) exclusively, mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    candidate = path
    for n in range(2, _NAME_TRIES + 2):
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        except FileExistsError:
            candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
            continue
        return fd, candidate
    raise FileExistsError(f"no free record name next to {path.name}")


_PLAIN: Final = (type(None), bool, int, float)


def _clean(value: Any, redact: TextRedactor, depth: int = 0) -> Any:
    """A JSON-ready copy of ``value`` with every string redacted (keys included)."""
    if depth > _MAX_DEPTH:
        return "…(nested too deeply)"
    kind = type(value)
    if kind is str:
        return redact(value)
    if kind in _PLAIN:
        return value
    if isinstance(value, dict):
        # Every frame of a call passes here: plain strings and numbers are handled in the loop rather than
        # by a call each (the record's cost is most of the event pump's under a burst).
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = redact.key(key if type(key) is str else str(key))
            item_kind = type(item)
            if item_kind is str:
                out[name] = REDACTED if item and name.lower() in _SECRET_KEYS else redact(item)
            elif item_kind in _PLAIN:
                out[name] = item
            elif isinstance(item, str) and item and name.lower() in _SECRET_KEYS:
                out[name] = REDACTED
            else:
                out[name] = _clean(item, redact, depth + 1)
        return out
    if isinstance(value, str):
        return redact(str(value))
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(item, redact, depth + 1) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return _clean(value.model_dump(mode="json", exclude_none=False), redact, depth + 1)
    return redact(repr(value))


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
    """A name for a new record; :class:`SessionRecorder` makes it unique when the file is created."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    suffix = f"-{call_hint[:8]}" if call_hint else ""
    return directory / f"session-{stamp}{suffix}.jsonl"
