"""``voipbin-tui test check | list | new | schema | from-record``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tui.runner.text import printable

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 4

STARTER = """\
# A voipbin-tui scenario. Run it: voipbin-tui test {path}
# Every wait is an `expect` with a deadline (`within`); the step passes the moment its event arrives.
version: 1
name: {name}
tags: [smoke]
sandbox: {{speed: 20, random_seed: 7, caller_script: []}}   # ignored on the real service
call:
  source: "+15551234567"
  destination: {{type: extension, target: quickstart-phone}}
  actions:
    - transcribe_start: {{language: en-US}}
    - talk: {{text: "Hello. This is the scripted test."}}
    - sleep: 60s
steps:
  - expect: {{call: progressing, within: 15s}}
  - expect: {{transcript: out, contains: "scripted test", within: 15s}}
  - say: "Your order has shipped."
  - expect: {{say: last, state: heard, within: 15s, latency_max: 5s}}
  - phone.say: "Thank you, goodbye."           # the sandbox's phone speaks (skipped on the real service)
  - expect: {{transcript: in, fuzzy: "thank you goodbye", score_min: 80, within: 15s}}
  - hangup: {{}}
  - expect: {{call: hangup, by: local, reason: normal, within: 10s}}
checks:
  - transcripts: {{direction: out, count_min: 2}}
  - gaps: {{unrecovered_max: 0}}
"""


def check(args: list[str]) -> int:
    p = argparse.ArgumentParser(prog="voipbin-tui test check", description="Validate scenario files.")
    p.add_argument("files", nargs="+", metavar="FILE")
    ns = p.parse_args(args)
    from tui.runner.loader import ScenarioError, load_scenario, scenario_files

    files = scenario_files(ns.files)
    missing = [f for f in ns.files if not Path(f).exists()]
    bad = 0
    for name in missing:
        print(f"{name}: no such file or directory", file=sys.stderr)
        bad += 1
    for path in files:
        try:
            scenario = load_scenario(path)
        except ScenarioError as exc:
            bad += 1
            for problem in exc.problems:
                print(printable(str(problem)), file=sys.stderr)
            continue
        print(printable(f"{path}: OK ({scenario.name}, {len(scenario.steps)} steps, {len(scenario.checks)} checks)"))
    if not files and not missing:
        print("voipbin-tui test check: no scenario files found", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_USAGE if bad else EXIT_OK


def list_scenarios(args: list[str]) -> int:
    p = argparse.ArgumentParser(prog="voipbin-tui test list", description="List the scenarios under PATHs.")
    p.add_argument("paths", nargs="*", metavar="PATH")
    p.add_argument("--json", action="store_true", help="one JSON object per scenario")
    ns = p.parse_args(args)
    from tui.runner.loader import ScenarioError, load_scenario, scenario_files

    status = EXIT_OK
    for path in scenario_files(ns.paths or ["."]):
        try:
            s = load_scenario(path)
        except ScenarioError as exc:
            print(printable(f"{path}: invalid ({len(exc.problems)} problem(s); see `voipbin-tui test check`)"))
            status = EXIT_USAGE
            continue
        if ns.json:
            row = {"name": s.name, "file": str(path), "tags": s.tags, "steps": len(s.steps), "checks": len(s.checks)}
            print(json.dumps(row, ensure_ascii=True))
        else:
            tags = f" [{', '.join(s.tags)}]" if s.tags else ""
            print(printable(f"{s.name}{tags}  {path}  ({len(s.steps)} steps)"))
    return status


def new(args: list[str]) -> int:
    p = argparse.ArgumentParser(prog="voipbin-tui test new", description="Write a starter scenario file.")
    p.add_argument("file", nargs="?", metavar="FILE", help="where to write it (default: stdout)")
    p.add_argument("--name", default=None)
    ns = p.parse_args(args)
    from tui.runner.from_record import safe_name

    if ns.file is None:
        print(STARTER.format(path="FILE.scenario.yaml", name=safe_name(ns.name or "my-scenario")), end="")
        return EXIT_OK
    path = Path(ns.file)
    if path.exists():
        print(f"voipbin-tui test new: {path} exists; not overwriting it", file=sys.stderr)
        return EXIT_USAGE
    stem = path.name.split(".")[0]
    path.write_text(STARTER.format(path=path, name=safe_name(ns.name or stem)), encoding="utf-8")
    print(f"wrote {path}")
    return EXIT_OK


def schema(args: list[str]) -> int:
    argparse.ArgumentParser(prog="voipbin-tui test schema", description="Print the JSON Schema.").parse_args(args)
    from tui.runner.schema import json_schema

    print(json.dumps(json_schema(), indent=2))
    return EXIT_OK


def from_record(args: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="voipbin-tui test from-record", description="Write a scenario from a session record (JSONL)."
    )
    p.add_argument("record", metavar="RECORD.jsonl")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout); never overwrites")
    p.add_argument("--name", help="scenario name (default: from the record's file name)")
    p.add_argument("--speed", type=float, help="sandbox speed to put in the scenario")
    ns = p.parse_args(args)
    from tui.runner.from_record import safe_name, scenario_from_record, to_yaml
    from tui.runner.replay import RecordError, read_entries

    record = Path(ns.record)
    try:
        entries = read_entries(record)
    except RecordError as exc:
        print(printable(f"voipbin-tui test from-record: {exc}"), file=sys.stderr)
        return EXIT_USAGE
    name = safe_name(ns.name or record.name.split(".")[0])
    text = to_yaml(scenario_from_record(entries, name, speed=ns.speed), record.name)
    if ns.output is None:
        print(text, end="")
        return EXIT_OK
    out = Path(ns.output)
    if out.exists():
        print(f"voipbin-tui test from-record: {out} exists; not overwriting it", file=sys.stderr)
        return EXIT_USAGE
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return EXIT_OK
