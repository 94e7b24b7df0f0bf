"""check / list / new / schema, the plugin's collection boundaries, and the Python driver fixture."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.runner.conftest import EXAMPLES, FAST_START, run_cli, write
from tui.runner.failures import FAILURE_KINDS, ScenarioFailure


def test_check_list_new_and_schema(tmp_path: Path) -> None:
    ok = run_cli("check", str(EXAMPLES), cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "seed-roundtrip.scenario.yaml: OK (seed-roundtrip, 11 steps, 4 checks)" in ok.stdout
    write(tmp_path, "bad.yaml", "name: x\nsteps:\n  - expect: {call: answered}\n")
    bad = run_cli("check", "bad.yaml", cwd=tmp_path)
    assert bad.returncode == 4
    assert bad.stderr.startswith("bad.yaml:3:14: steps[0].expect.call: Input should be 'dialing'")

    listed = run_cli("list", str(EXAMPLES), "--json", cwd=tmp_path)
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {r["name"] for r in rows} >= {"seed-roundtrip", "busy-phone", "speaking-controls"}
    assert next(r for r in rows if r["name"] == "seed-roundtrip")["tags"] == ["smoke"]

    new = run_cli("new", "mine.scenario.yaml", cwd=tmp_path)
    assert new.returncode == 0
    assert run_cli("check", "mine.scenario.yaml", cwd=tmp_path).returncode == 0
    assert run_cli("new", "mine.scenario.yaml", cwd=tmp_path).returncode == 4

    schema = json.loads(run_cli("schema", cwd=tmp_path).stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "phone.say" in schema["$defs"]["Step"]["properties"]


def test_plugin_collects_scenario_files_only_and_leaves_other_yaml_alone(tmp_path: Path) -> None:
    write(tmp_path, "settings.yaml", "name: not-a-scenario\nsteps: 3\n")
    write(tmp_path, "data.toml", 'x = "y"\n')
    write(tmp_path, "test_plain.py", "def test_one() -> None:\n    assert True\n")
    # The plugin as the pytest11 entry point loads it (the suite's own collection of examples/ proves the
    # entry point); the other installed plugins are left out for a fast start.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "tui.runner.plugin",
            "--collect-only",
            "-q",
            ".",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **FAST_START},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "test_plain.py::test_one" in result.stdout
    assert "1 test collected" in result.stdout


def test_failure_kinds_are_the_fixed_list() -> None:
    assert FAILURE_KINDS == (
        "timeout",
        "state_mismatch",
        "text_mismatch",
        "regex_no_match",
        "fuzzy_below",
        "wer_exceeded",
        "latency_exceeded",
        "request_failed",
        "connection_unrecovered",
        "unexpected_event",
        "skipped",
        "error",
    )


FAST: dict[str, Any] = {
    "sandbox": {"speed": 20, "random_seed": 7, "caller_script": []},
    "call": {"actions": [{"transcribe_start": {"language": "en-US"}}, {"sleep": "60s"}]},
}


async def test_a_python_test_drives_a_call_step_by_step(voipbin_call: Any, tmp_path: Path) -> None:
    async with voipbin_call(FAST) as call:
        await call.expect_call("progressing", within=10)
        await call.say("Your order has shipped.")
        await call.expect_transcript("out", contains="ORDER has shipped", within=10)
        await call.expect_say("last", state="heard", latency_max=5)
        await call.phone_say("Where is my parcel?")
        await call.expect_transcript("in", fuzzy="where is my parcel", within=10)
        with pytest.raises(ScenarioFailure) as info:
            await call.expect_transcript("in", contains="refund", within=0.3)
        assert info.value.kind == "timeout"
        assert "Where is my parcel?" in info.value.message
        await call.hangup()
        await call.expect_call("hangup", by="local", reason="normal", within=10)
    assert [r.status for r in call.outcome.trace].count("failed") == 1
    assert (tmp_path / "record.jsonl").is_file()
