"""The console and scenario runs keep the cycle collector off their event loop; importing does nothing."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tui.gc_tuning import GC_THRESHOLDS, tune_collector


@pytest.fixture
def restore_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restore_collector")
def test_tune_collector_freezes_and_raises_the_thresholds() -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    tune_collector()
    assert gc.get_threshold() == GC_THRESHOLDS
    assert gc.get_freeze_count() > 0


def test_importing_the_console_and_runner_leaves_the_collector_alone() -> None:
    code = (
        "import gc; before = gc.get_threshold();"
        "import tui.console, tui.runner.plugin, tui.runner.process_tuning, tui.gc_tuning;"
        "assert gc.get_threshold() == before, gc.get_threshold(); assert gc.get_freeze_count() == 0"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.usefixtures("restore_collector")
def test_the_console_tunes_the_collector_before_it_runs_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    import tui.ui.app
    from tui.console import run_console
    from tui.options import ConsoleOptions

    seen: list[tuple[int, int, int]] = []

    class FakeApp:
        return_code = 0
        exit_line = ""

        def __init__(self, runtime: object) -> None:
            pass

        def run(self) -> None:
            seen.append(gc.get_threshold())

    gc.set_threshold(700, 10, 10)
    monkeypatch.setattr(tui.ui.app, "VoipbinApp", FakeApp)
    assert run_console(ConsoleOptions(sandbox=True)) == 0
    assert seen == [GC_THRESHOLDS]
