"""The live progress view's drawing (a TTY) and its absence without one (CI gets the heartbeat)."""

from __future__ import annotations

import re
from pathlib import Path

from rich.console import Console

from tests.runner.conftest import run_cli, write
from tests.runner.test_cli_runs import PASSING
from tui.runner.engine import StepRecord
from tui.runner.progress import KEEP_FINISHED, ProgressBoard, render_board


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def drawn(board: ProgressBoard, width: int = 120) -> str:
    console = Console(width=width, record=True, force_terminal=False, color_system=None)
    console.print(render_board(board))
    return console.export_text()


def test_the_board_shows_each_running_scenario_with_its_current_step_and_times() -> None:
    clock = FakeClock()
    board = ProgressBoard(total=3, clock=clock)
    board.started("seed-roundtrip")
    clock.now += 1.0
    board.started("busy-phone")
    board.step_started(
        "seed-roundtrip",
        StepRecord(1, "expect", '{"transcript": "out", "contains": "scripted test", "within": 15.0}', 1.0),
    )
    clock.now += 1.5
    board.step_started("busy-phone", StepRecord(0, "phone.reject", "", 1.0))
    clock.now += 0.5
    text = drawn(board)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert lines[0] == "voipbin-tui test · 0/3 done · 0 passed · 0 failed · 3 s"
    assert 'seed-roundtrip 3.0 s 1 expect transcript out contains "scripted test" within 15s 2.0 s' in lines[1]
    assert "busy-phone 2.0 s 0 phone.reject 0.5 s" in lines[2]

    board.finished("busy-phone", True)
    clock.now += 1.0
    board.finished("seed-roundtrip", False, "timeout at step 1: not met within 15s: closest 'Hello'")
    lines = [" ".join(line.split()) for line in drawn(board).splitlines()]
    assert lines[0] == "voipbin-tui test · 2/3 done · 1 passed · 1 failed · 4 s"
    assert lines[1] == "✓ busy-phone 2.0 s"
    assert lines[2] == "✗ seed-roundtrip 4.0 s timeout at step 1: not met within 15s: closest 'Hello'"


def test_remote_text_on_the_board_is_escaped_and_finished_rows_are_bounded() -> None:
    clock = FakeClock()
    board = ProgressBoard(total=20, clock=clock)
    board.started("evil[bold]\x1b[31m")
    board.finished("evil[bold]\x1b[31m", False, "text_mismatch at step 2: got '\x07[red]x[/red]'")
    text = drawn(board, width=200)
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "[red]x[/red]" in text, "markup in remote text is shown as text"
    assert "evil[bold]" in text
    for i in range(KEEP_FINISHED + 3):
        board.started(f"s{i}")
        board.finished(f"s{i}", True)
    text = drawn(board, width=200)
    assert len([ln for ln in text.splitlines() if ln.strip()]) == 1 + KEEP_FINISHED
    assert "evil" not in text


def test_without_a_tty_there_is_no_live_view_only_the_heartbeat(tmp_path: Path) -> None:
    write(tmp_path, "p.scenario.yaml", PASSING.replace("- hangup: {}", "- wait: 0.6\n  - hangup: {}"))
    result = run_cli("p.scenario.yaml", "--", "--scenario-heartbeat", "0.2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "voipbin-tui test: 0/1 scenarios done" in result.stderr
    assert "done ·" not in result.stderr + result.stdout
    assert "\x1b[" not in result.stderr


def test_with_jobs_the_live_view_shows_each_scenarios_steps(tmp_path: Path) -> None:
    # The controller collects nothing under xdist: the view used not to start at all, and before that the
    # workers told it only a scenario's start and end. On a terminal it now shows the steps as they start.
    import os
    import pty
    import subprocess

    from tests.runner.conftest import FAST_START, command

    for name in ("a", "b"):
        text = PASSING.replace("name: passes", f"name: jobs-{name}")
        write(tmp_path, f"{name}.scenario.yaml", text.replace("- hangup: {}", "- wait: 1.0\n  - hangup: {}"))
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [command(), "test", "--jobs", "2", "a.scenario.yaml", "b.scenario.yaml"],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=slave,
            env={**os.environ, **FAST_START, "COLUMNS": "160"},
        )
        os.close(slave)
        chunks: list[bytes] = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        assert proc.wait(timeout=120) == 0
    finally:
        os.close(master)
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8", errors="replace"))
    assert "0/2 done" in screen
    assert re.search(r"jobs-[ab]\s+[\d.]+ s\s+1 wait", screen), screen[-2000:]
