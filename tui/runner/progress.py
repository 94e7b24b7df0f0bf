"""The live progress view of ``voipbin-tui test`` on a TTY: each running scenario, its current step, the time.

Without a TTY nothing redraws, so the plugin writes a heartbeat line instead (``Heartbeat``). The board is
fed from the event loop (step starts and ends, in the process that runs the scenario) and from pytest's
hooks (a scenario started or finished). With ``--jobs`` the workers' step starts come through a step feed
(``tui.runner.step_feed``), read at each redraw. The view is drawn by rich in its own refresh thread, so
the board's reads and writes take a lock.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from tui.runner.text import printable

if TYPE_CHECKING:
    from rich.console import RenderableType

    from tui.runner.engine import StepRecord
    from tui.runner.step_feed import StepReader

# How many finished scenarios stay on the board under the running ones.
KEEP_FINISHED = 5


@dataclass(slots=True)
class Row:
    name: str
    started: float
    step: str = ""
    step_started: float | None = None
    status: str = "running"
    ended: float | None = None
    failure: str = ""


class ProgressBoard:
    def __init__(self, total: int = 0, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.clock = clock
        self.t0 = clock()
        self.rows: dict[str, Row] = {}
        self._lock = threading.Lock()
        # ``--jobs``: the workers' step starts, read at each redraw.
        self.feed: StepReader | None = None

    def started(self, name: str) -> None:
        with self._lock:
            row = self.rows.get(name)
            # A worker's first step can be read before pytest reports the start: keep it.
            if row is None or row.status != "running":
                self.rows[name] = Row(name, self.clock())

    def step_started(self, name: str, record: StepRecord) -> None:
        self.step(name, record.index, record.verb, record.detail)

    def step(self, name: str, index: int, verb: str, detail: str) -> None:
        from tui.runner.onscreen import describe_step

        with self._lock:
            row = self.rows.get(name) or self.rows.setdefault(name, Row(name, self.clock()))
            if row.status != "running":
                return
            row.step = f"{index} {describe_step(verb, detail)}"
            row.step_started = self.clock()

    def finished(self, name: str, passed: bool, failure: str = "") -> None:
        with self._lock:
            row = self.rows.get(name) or self.rows.setdefault(name, Row(name, self.clock()))
            row.status = "passed" if passed else "failed"
            row.ended = self.clock()
            row.failure = failure

    def snapshot(self) -> tuple[float, list[Row]]:
        with self._lock:
            return self.clock(), [replace(r) for r in self.rows.values()]

    def __rich__(self) -> RenderableType:
        if self.feed is not None:
            self.feed.poll(self)
        return render_board(self)


def render_board(board: ProgressBoard) -> RenderableType:
    """The view as a rich table: running scenarios with their current step, then the last few finished."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    now, rows = board.snapshot()
    running = [r for r in rows if r.status == "running"]
    done = sorted((r for r in rows if r.status != "running"), key=lambda r: r.ended or 0.0)
    passed = sum(1 for r in done if r.status == "passed")
    title = (
        f"voipbin-tui test · {len(done)}/{board.total or len(rows)} done · {passed} passed · "
        f"{len(done) - passed} failed · {now - board.t0:.0f} s"
    )
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column("mark", no_wrap=True)
    table.add_column("scenario", no_wrap=True, max_width=40, overflow="ellipsis")
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("step", overflow="ellipsis", no_wrap=True)
    for row in running:
        step = Text(printable(row.step or "starting…"), style="cyan")
        if row.step_started is not None:
            step.append(f"  {now - row.step_started:.1f} s", style="dim")
        table.add_row(Text("…", style="yellow"), Text(printable(row.name)), f"{now - row.started:.1f} s", step)
    for row in done[-KEEP_FINISHED:]:
        ok = row.status == "passed"
        took = f"{(row.ended or now) - row.started:.1f} s"
        detail = Text(printable(row.failure), style="red") if row.failure else Text("")
        mark = Text("✓", style="green") if ok else Text("✗", style="bold red")
        table.add_row(mark, Text(printable(row.name)), took, detail)
    return Group(Text(title, style="bold"), table)


class LiveProgress:
    """rich's Live on the real terminal (fd 2, taken before pytest captures it); transient: it leaves no trace
    in the scroll-back, so pytest's own report follows it unchanged."""

    def __init__(self, board: ProgressBoard, fd: int) -> None:
        self.board = board
        self._fd = os.dup(fd)
        self._live: Any = None
        self._file: Any = None

    def start(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self._file = os.fdopen(self._fd, "w", encoding="utf-8", errors="replace", closefd=True)
        console = Console(file=self._file, force_terminal=True, stderr=True)
        self._live = Live(
            self.board,
            console=console,
            refresh_per_second=4,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()

    def stop(self) -> None:
        if self._live is not None:
            try:
                self._live.stop()
            finally:
                self._live = None
        if self._file is not None:
            self._file.close()
            self._file = None
        elif self._fd >= 0:
            os.close(self._fd)
        self._fd = -1
