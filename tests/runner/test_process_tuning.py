"""The runner's process settings: applied where scenario calls run, and only there."""

from __future__ import annotations

import gc
import json
from pathlib import Path

from tests.runner.conftest import run_cli, scenario, write
from tui.runner.process_tuning import GC_THRESHOLDS, tune_for_scenario_calls

# Written by the run under test: the settings the process had while its items ran.
REPORT_SETTINGS = """
import gc
import json
from pathlib import Path


def pytest_runtest_teardown(item):
    Path("settings.json").write_text(json.dumps({"thresholds": gc.get_threshold(), "frozen": gc.get_freeze_count()}))
"""

PLAIN_TEST = """
def test_plain():
    assert 1 + 1 == 2
"""


def test_tuning_freezes_what_exists_and_raises_the_young_threshold() -> None:
    # This suite's own workers may be tuned already (they collect the example scenarios): start from the
    # interpreter's defaults, and put back what was there.
    before, was_frozen = gc.get_threshold(), gc.get_freeze_count() > 0
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    try:
        tune_for_scenario_calls()
        assert gc.get_threshold() == GC_THRESHOLDS
        assert GC_THRESHOLDS[0] > 700
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
        if was_frozen:
            gc.freeze()


def test_the_command_tunes_a_session_that_runs_scenarios(tmp_path: Path) -> None:
    write(tmp_path, "conftest.py", REPORT_SETTINGS)
    write(tmp_path, "call.scenario.yaml", scenario("passes", "- expect: {call: progressing, within: 10s}"))
    result = run_cli(".", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    settings = json.loads((tmp_path / "settings.json").read_text())
    assert tuple(settings["thresholds"]) == GC_THRESHOLDS
    assert settings["frozen"] > 0


def test_a_session_with_only_plain_tests_keeps_the_defaults(tmp_path: Path) -> None:
    write(tmp_path, "conftest.py", REPORT_SETTINGS)
    write(tmp_path, "test_plain.py", PLAIN_TEST)
    result = run_cli(".", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    settings = json.loads((tmp_path / "settings.json").read_text())
    assert tuple(settings["thresholds"]) != GC_THRESHOLDS
    assert settings["frozen"] == 0
