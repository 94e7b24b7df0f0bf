"""Step starts from ``--jobs`` workers to the controller's live view, as they happen.

pytest-xdist carries a test's reports back only when it ends, so without this the view of a parallel run
showed each scenario start and end and nothing in between. The controller names a private directory in
the environment before the workers start; each worker appends one JSON line per step start to its own
file there, and the view reads what is new each time it redraws. Lines are short, written whole and
flushed, so a reader never sees half of one for long (a partial last line is read on the next redraw).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.runner.engine import StepRecord
    from tui.runner.progress import ProgressBoard

FEED_ENV = "VOIPBIN_TUI_STEP_FEED"


def open_feed() -> Path:
    """The controller's side: a fresh private directory, named in the environment the workers inherit."""
    directory = Path(tempfile.mkdtemp(prefix="voipbin-steps-"))
    os.environ[FEED_ENV] = str(directory)
    return directory


def close_feed(directory: Path) -> None:
    if os.environ.get(FEED_ENV) == str(directory):
        del os.environ[FEED_ENV]
    shutil.rmtree(directory, ignore_errors=True)


class StepWriter:
    """A worker's side: one file per process, one line per step start."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / f"{os.getpid()}.jsonl"

    @classmethod
    def from_env(cls) -> StepWriter | None:
        directory = os.environ.get(FEED_ENV)
        return cls(Path(directory)) if directory and Path(directory).is_dir() else None

    def step_started(self, scenario: str, record: StepRecord) -> None:
        line = json.dumps(
            {"scenario": scenario, "index": record.index, "verb": record.verb, "detail": record.detail},
            ensure_ascii=True,
        )
        try:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        except OSError:
            pass  # the view misses a step; the run goes on


class StepReader:
    """The controller's side: what the workers wrote since the last read, onto the board."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._offsets: dict[Path, int] = {}

    def poll(self, board: ProgressBoard) -> None:
        try:
            paths = sorted(self.directory.glob("*.jsonl"))
        except OSError:
            return
        for path in paths:
            offset = self._offsets.get(path, 0)
            try:
                with path.open("rb") as fh:
                    fh.seek(offset)
                    data = fh.read()
            except OSError:
                continue
            complete = data[: data.rfind(b"\n") + 1]
            self._offsets[path] = offset + len(complete)
            for raw in complete.splitlines():
                _apply(board, raw)


def _apply(board: ProgressBoard, raw: bytes) -> None:
    try:
        entry: Any = json.loads(raw)
    except ValueError:
        return
    if not isinstance(entry, dict):
        return
    name, index, verb, detail = (entry.get(k) for k in ("scenario", "index", "verb", "detail"))
    if isinstance(name, str) and isinstance(index, int) and isinstance(verb, str) and isinstance(detail, str):
        board.step(name, index, verb, detail)
