"""`voipbin-tui test` as CI runs it: real processes, real sandboxes, pytest's exit codes and reports."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.runner.conftest import EXAMPLES, run_cli, scenario, write

PASSING = scenario(
    "passes",
    """
    - expect: {call: progressing, within: 10s}
    - hangup: {}
    - expect: {call: hangup, by: local, within: 10s}
    """,
)
NEVER_COMES = scenario(
    "transcript-never-comes",
    """
    - expect: {call: progressing, within: 10s}
    - expect: {transcript: out, contains: "scripted test", within: 10s}
    - expect: {transcript: out, contains: "the scripted quiz", within: 1s}
    """,
)
WRONG_REASON = scenario(
    "hangup-reason-differs",
    """
    - expect: {call: hangup, by: remote, reason: normal, within: 10s}
    """,
    head="""
    sandbox: {speed: 20, random_seed: 7, answer_mode: reject, answer_delay: 1}
    call: {actions: [{talk: {text: "hi"}}]}
    """,
)
TIGHT_LATENCY = scenario(
    "latency-budget-too-tight",
    """
    - expect: {call: progressing, within: 10s}
    - say: "Your order has shipped today."
    - expect: {say: last, state: heard, within: 10s, latency_max: 5ms}
    """,
)


def test_failures_carry_kind_step_and_an_actionable_message_in_every_report(tmp_path: Path) -> None:
    for name, text in [
        ("a.scenario.yaml", PASSING),
        ("b.scenario.yaml", NEVER_COMES),
        ("c.scenario.yaml", WRONG_REASON),
        ("d.scenario.yaml", TIGHT_LATENCY),
    ]:
        write(tmp_path, name, text)
    result = run_cli(".", "--json", "r.json", "--junit", "j.xml", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"=+ 3 failed, 1 passed in [\d.]+s", result.stdout.strip().splitlines()[-1])
    assert "scenario failures" in result.stdout
    assert "hangup-reason-differs: step 0 (expect): state_mismatch: the call hung up reason busy instead of normal" in (
        result.stdout
    )

    report = json.loads((tmp_path / "r.json").read_text())
    assert (report["passed"], report["failed"], report["skipped"]) == (1, 3, 0)
    failures = {s["name"]: s["failure"] for s in report["scenarios"] if s["status"] == "failed"}
    assert {n: (f["kind"], f["step"]) for n, f in failures.items()} == {
        "transcript-never-comes": ("timeout", 2),
        "hangup-reason-differs": ("state_mismatch", 0),
        "latency-budget-too-tight": ("latency_exceeded", 2),
    }
    # The timeout names the closest line it saw, so a person knows what came instead.
    assert "closest of 2: 'This is the scripted test.' (score" in failures["transcript-never-comes"]["message"]
    assert re.search(r"say→heard took \d+ ms, budget 5 ms", failures["latency-budget-too-tight"]["message"])

    root = ET.parse(tmp_path / "j.xml").getroot()
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == 4
    kinds = {c.get("name"): (f.get("type") if (f := c.find("failure")) is not None else None) for c in cases}
    assert kinds == {
        "passes": None,
        "transcript-never-comes": "timeout",
        "hangup-reason-differs": "state_mismatch",
        "latency-budget-too-tight": "latency_exceeded",
    }
    out = next(c for c in cases if c.get("name") == "transcript-never-comes").findtext("system-out") or ""
    assert "step trace:" in out
    assert "out: This is the scripted test." in out


def test_examples_pass_through_the_command(tmp_path: Path) -> None:
    """The same files also run as plain pytest items: they are in the suite's testpaths."""
    result = run_cli(str(EXAMPLES), "--json", str(tmp_path / "r.json"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["failed"] == 0
    assert report["passed"] == len(list(EXAMPLES.glob("*.scenario.*"))) >= 4
    # The repository's own pytest settings apply (two workers); so do its warnings about ini keys of
    # plugins this fast start leaves out.
    closing = result.stdout.strip().splitlines()[-1]
    assert re.search(rf"=+ {report['passed']} passed(, \d+ warnings)? in [\d.]+s", closing)


def test_jobs_4_and_repeat_5_report_a_pass_rate(tmp_path: Path) -> None:
    write(tmp_path, "p.scenario.yaml", PASSING)
    result = run_cli("p.scenario.yaml", "--jobs", "4", "--repeat", "5", "--json", "r.json", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passes: 5/5 passed (100%)" in result.stdout
    assert re.search(r"5 passed in", result.stdout)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["pass_rates"] == {"passes": {"runs": 5, "passed": 5, "rate": 1.0}}
    assert sorted(s["run"] for s in report["scenarios"]) == [1, 2, 3, 4, 5]


def test_usage_schema_errors_and_empty_runs_use_pytests_exit_codes(tmp_path: Path) -> None:
    write(tmp_path, "bad.scenario.yaml", "version: 1\nname: bad\nsteps:\n  - say: hi\n  - yell: hi\n")
    bad = run_cli("bad.scenario.yaml", cwd=tmp_path)
    assert bad.returncode == 4
    assert "bad.scenario.yaml:5:5: steps[1]" in bad.stderr
    assert "nothing was run" in bad.stderr
    (tmp_path / "empty").mkdir()
    assert run_cli("empty", cwd=tmp_path).returncode == 5
    assert run_cli("missing-dir", cwd=tmp_path).returncode == 4
    assert run_cli("--jobs", "0", "empty", cwd=tmp_path).returncode == 4


def test_jsonl_streams_step_events_on_stdout_and_the_heartbeat_goes_to_stderr(tmp_path: Path) -> None:
    write(tmp_path, "p.scenario.yaml", PASSING.replace("- hangup: {}", "- wait: 0.8\n  - hangup: {}"))
    result = run_cli("p.scenario.yaml", "--format", "jsonl", "--", "--scenario-heartbeat", "0.2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    steps = [e for e in events if e["kind"] == "step"]
    assert [s["verb"] for s in steps] == ["expect", "wait", "hangup", "expect"]
    assert all(s["status"] == "passed" for s in steps)
    assert steps[1]["smell"].startswith("wait is a plain sleep")
    assert events[-1] == {
        "kind": "scenario",
        "event": "finished",
        "scenario": "passes",
        "status": "passed",
        "duration_s": events[-1]["duration_s"],
    }
    assert "1 passed" in result.stderr
    assert re.search(r"voipbin-tui test: [01]/1 scenarios done", result.stderr)
    assert "scenario smells" in result.stderr
