"""Record → scenario → replay: a recorded sandbox session round-trips through from-record and replay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.runner.conftest import EXAMPLES, run_cli
from tui.runner.from_record import scenario_from_record
from tui.runner.live import run_live
from tui.runner.loader import load_scenario, load_scenario_text
from tui.runner.replay import read_entries, run_replay
from tui.runner.target import TargetOptions


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One live run of the seed example, keeping its session record."""
    import asyncio

    artifacts = tmp_path_factory.mktemp("live")
    outcome = asyncio.run(
        run_live(load_scenario(EXAMPLES / "seed-roundtrip.scenario.yaml"), TargetOptions(), artifacts)
    )
    assert outcome.passed, outcome.failure
    assert {"record", "trace", "transcript_md", "transcript_jsonl", "transcript_srt"} <= set(outcome.artifacts)
    trace = [json.loads(line) for line in (artifacts / "trace.jsonl").read_text().splitlines()]
    assert [t["verb"] for t in trace][:3] == ["expect", "expect", "say"]
    assert all(t["ended_s"] >= t["started_s"] for t in trace)
    return artifacts / "record.jsonl"


def test_replay_passes_the_scenario_that_was_recorded_in_virtual_time(recorded: Path) -> None:
    outcome = run_replay(load_scenario(EXAMPLES / "seed-roundtrip.scenario.yaml"), recorded)
    assert outcome.passed, outcome.failure
    # The 2 s `absent` window passed in virtual time, not in wall-clock time.
    assert outcome.duration_s < 2.0
    absent = next(t for t in outcome.trace if "absent" in t.detail)
    assert absent.ended_s - absent.started_s == pytest.approx(2.0, abs=0.01)
    assert [r["text"] for r in outcome.transcript if r["direction"] == "in"] == ["Thank you, goodbye."]


def test_replay_checks_new_expectations_against_old_calls(recorded: Path) -> None:
    stricter = load_scenario_text(
        """
name: stricter
steps:
  - expect: {call: progressing, within: 5s}
  - expect: {transcript: in, fuzzy: "I want a refund", score_min: 90, within: 30s}
"""
    )
    outcome = run_replay(stricter, recorded)
    assert outcome.failure is not None
    # The recorded call ended: its text is final, so the verdict is the matcher's, not a timeout.
    assert outcome.failure.kind == "fuzzy_below"
    assert outcome.failure.step == 1
    assert "Thank you, goodbye." in outcome.failure.message


def test_from_record_writes_a_scenario_that_replays(recorded: Path, tmp_path: Path) -> None:
    result = run_cli("from-record", str(recorded), "-o", "pinned.scenario.yaml", "--speed", "20", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load((tmp_path / "pinned.scenario.yaml").read_text())
    assert data["call"]["destination"] == {"type": "extension", "target": "quickstart-phone"}
    verbs = [next(iter(s)) for s in data["steps"]]
    assert verbs.count("say") == 1
    assert verbs[-2:] == ["hangup", "expect"]
    assert data["steps"][-1]["expect"] == {"call": "hangup", "within": "15s", "by": "local", "reason": "normal"}
    heard = next(s["expect"] for s in data["steps"] if "expect" in s and s["expect"].get("say"))
    assert heard["latency_max"].endswith("s")
    # Refusing to overwrite keeps what a person edited.
    again = run_cli("from-record", str(recorded), "-o", "pinned.scenario.yaml", cwd=tmp_path)
    assert again.returncode == 4
    replay = run_cli("pinned.scenario.yaml", "--replay", str(recorded), "--json", "r.json", cwd=tmp_path)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["scenarios"][0]["target"] == "replay"


def test_from_record_of_an_unreadable_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text('{"type": "frame"}\n')
    result = run_cli("from-record", "x.jsonl", cwd=tmp_path)
    assert result.returncode == 4
    assert "not a voipbin-tui session record" in result.stderr


def test_scenario_from_record_keeps_transcripts_as_fuzzy_expectations(recorded: Path) -> None:
    data = scenario_from_record(read_entries(recorded), "x")
    fuzzy = [s["expect"]["fuzzy"] for s in data["steps"] if "expect" in s and "fuzzy" in s["expect"]]
    assert fuzzy == ["Hello", "This is the scripted test", "Your order has shipped", "Thank you goodbye"]
    assert {"transcripts": {"direction": "out", "count_min": 3}} in data["checks"]
