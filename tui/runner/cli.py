"""``voipbin-tui test``: a thin front over pytest and the scenario plugin, plus check/list/new/schema/from-record.

Exit codes are pytest's: 0 passed, 1 failed, 2 interrupted, 3 internal error, 4 usage or schema error,
5 nothing collected.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 4
EXIT_NOTHING = 5
SUBCOMMANDS = ("check", "list", "new", "schema", "from-record")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="voipbin-tui test",
        description="Run scenario files (*.scenario.yaml / *.scenario.toml, or any file named here) as tests. "
        "Each scenario gets its own sandbox unless --allow-real sends it to the configured VoIPBIN service. "
        "Other commands: check FILE…, list PATH…, new [FILE], schema, from-record RECORD.jsonl.",
        epilog="Exit status: 0 passed, 1 failed, 2 interrupted, 3 internal error, 4 usage or schema error, "
        "5 nothing collected. Arguments after `--` go to pytest as they are.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="scenario files or directories (default: .)")
    p.add_argument("-k", dest="keyword", metavar="EXPR", help="pytest -k expression over names and tags")
    p.add_argument("--tag", action="append", default=[], metavar="TAG", help="only scenarios with this tag")
    p.add_argument("--junit", metavar="FILE", help="write JUnit XML (one testcase per scenario run)")
    p.add_argument("--json", metavar="FILE", help="write the JSON report")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="run N scenarios in parallel (pytest-xdist)")
    p.add_argument("--repeat", type=int, default=1, metavar="N", help="run each scenario N times; reports pass rate")
    p.add_argument("--format", choices=["text", "jsonl"], default="text", help="jsonl: step events on stdout")
    p.add_argument("--replay", metavar="RECORD", help="check expectations against a session record, offline")
    p.add_argument("--allow-real", action="store_true", help="run on the configured VoIPBIN service (real calls)")
    p.add_argument("--max-calls", type=int, default=10, metavar="N", help="most real calls this run may place (10)")
    p.add_argument("--artifacts", metavar="DIR", help="keep each scenario's record, transcript and trace here")
    p.add_argument("--config", metavar="PATH", help="config file (credentials and profiles for --allow-real)")
    p.add_argument("--profile", metavar="NAME", help="use [profiles.NAME] of the config file")
    p.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failure")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more pytest output")
    p.add_argument("-q", "--quiet", action="count", default=0, help="less pytest output")
    return p


def main(argv: Sequence[str]) -> int:
    args = list(argv)
    if args and args[0] in SUBCOMMANDS:
        return _subcommand(args[0], args[1:])
    extra: list[str] = []
    if "--" in args:
        cut = args.index("--")
        args, extra = args[:cut], args[cut + 1 :]
    try:
        ns = build_parser().parse_args(args)
    except SystemExit as exc:
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    return run(ns, extra)


# -- running ------------------------------------------------------------------------------------------------


def _files(paths: Sequence[str]) -> list[Path]:
    from tui.runner.loader import scenario_files

    return scenario_files(paths)


def _precheck(files: list[Path]) -> tuple[list[Any], list[str]]:
    from tui.runner.loader import ScenarioError, load_scenario

    scenarios: list[Any] = []
    problems: list[str] = []
    for path in files:
        try:
            scenarios.append(load_scenario(path))
        except ScenarioError as exc:
            problems.extend(str(p) for p in exc.problems)
    return scenarios, problems


def run(ns: argparse.Namespace, extra: list[str]) -> int:
    paths = ns.paths or ["."]
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        print(f"voipbin-tui test: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    if ns.jobs < 1 or ns.repeat < 1 or ns.max_calls < 0:
        print("voipbin-tui test: --jobs and --repeat must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if ns.replay and not Path(ns.replay).is_file():
        print(f"voipbin-tui test: no such record: {ns.replay}", file=sys.stderr)
        return EXIT_USAGE
    from_paths = _files(paths)
    scenarios, problems = _precheck(from_paths)
    if problems:
        for line in problems:
            print(line, file=sys.stderr)
        print(f"voipbin-tui test: {len(problems)} problem(s) in scenario files; nothing was run", file=sys.stderr)
        return EXIT_USAGE
    secrets: list[str] = []
    if ns.allow_real and not ns.replay:
        code = _plan_real(ns, scenarios, secrets)
        if code is not None:
            return code
    elif not ns.replay:
        _note_credentials(ns)
    pytest_args = _pytest_args(ns, paths) + extra
    if ns.format == "jsonl":
        with _stdout_for_events() as events:
            return _pytest(pytest_args, JsonlSink(events, secrets))
    return _pytest(pytest_args, None)


def _pytest_args(ns: argparse.Namespace, paths: list[str]) -> list[str]:
    args = [*paths, "-rN"]
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        # Normally the entry points load the plugins; loading one twice would be an error. Without them
        # (a faster start: no other project's plugins), name the two this front needs.
        args += ["-p", "tui.runner.plugin"]
        if ns.jobs > 1 or importlib.util.find_spec("xdist") is not None:
            # A project's own `addopts = "-n 2"` needs it too.
            args += ["-p", "xdist.plugin"]
    if ns.keyword:
        args += ["-k", ns.keyword]
    for tag in ns.tag:
        args += ["--scenario-tag", tag]
    if ns.junit:
        args += ["--scenario-junit", ns.junit]
    if ns.json:
        args += ["--scenario-json", ns.json]
    if ns.jobs > 1:
        args += ["-n", str(ns.jobs)]
    if ns.repeat > 1:
        args += ["--scenario-repeat", str(ns.repeat)]
    if ns.replay:
        args += ["--scenario-replay", ns.replay]
    if ns.allow_real and not ns.replay:
        args += ["--scenario-real", "--scenario-allow-real", "--scenario-max-calls", str(ns.max_calls)]
    if ns.artifacts:
        args += ["--scenario-artifacts", ns.artifacts]
    if ns.config:
        args += ["--scenario-config", ns.config]
    if ns.profile:
        args += ["--scenario-profile", ns.profile]
    if ns.exitfirst:
        args.append("-x")
    args += ["-v"] * ns.verbose + ["-q"] * ns.quiet
    return args


def _pytest(args: list[str], sink: JsonlSink | None) -> int:
    import pytest

    from tui.runner.interrupts import interrupts_end_the_session

    plugins: list[Any] = [sink] if sink is not None else []
    try:
        with interrupts_end_the_session():
            code = pytest.main(args, plugins=plugins)
    except KeyboardInterrupt:
        return 2
    finally:
        if sink is not None:
            sink.close()
    return int(code)


def _load_settings(ns: argparse.Namespace) -> Any:
    from tui.config import load_settings

    settings, _ = load_settings(ns.config, ns.profile)
    return settings


def _note_credentials(ns: argparse.Namespace) -> None:
    if not (ns.profile or ns.config):
        return
    with contextlib.suppress(Exception):
        if _load_settings(ns).has_credentials():
            print(
                "voipbin-tui test: credentials are configured, but scenarios run on the sandbox unless --allow-real",
                file=sys.stderr,
            )


def _plan_real(ns: argparse.Namespace, scenarios: list[Any], secrets: list[str]) -> int | None:
    """Print what a real run would do; refuse (exit 4) when it is not allowed or over the call cap."""
    from tui.config import ConfigError

    try:
        settings = _load_settings(ns)
    except ConfigError as exc:
        from tui.runner.text import printable

        # A config file's problems quote its values: someone else's text, shown escaped.
        print(printable(f"voipbin-tui test: {exc}"), file=sys.stderr)
        return EXIT_USAGE
    if not settings.has_credentials():
        print(
            "voipbin-tui test: --allow-real needs a named target: credentials (VOIPBIN_ACCESSKEY, the config file) "
            "or --profile",
            file=sys.stderr,
        )
        return EXIT_USAGE
    secrets.extend(settings.secrets())
    selected = [s for s in scenarios if not ns.tag or set(ns.tag) & set(s.tags)]
    calls = sum(1 for s in selected if s.places_call) * ns.repeat
    print(f"voipbin-tui test: REAL RUN on {settings.api_url} (profile {settings.profile or '-'})", file=sys.stderr)
    for s in selected:
        if s.call is not None:
            dest = s.call.destination if isinstance(s.call.destination, str) else s.call.destination.target
            what = f"dial {dest} from {s.call.source}"
        else:
            what = f"attach to {s.attach}"
        skipped = len(s.uses_sandbox_only())
        note = f"; {skipped} sandbox-only step(s) skipped" if skipped else ""
        print(f"  - {s.name}: {what}, {len(s.steps)} steps{note} (x{ns.repeat})", file=sys.stderr)
    print(f"  calls: {calls} (--max-calls {ns.max_calls})", file=sys.stderr)
    if calls > ns.max_calls:
        print(f"voipbin-tui test: {calls} calls exceed --max-calls {ns.max_calls}; nothing was run", file=sys.stderr)
        return EXIT_USAGE
    return None


# -- --format jsonl -----------------------------------------------------------------------------------------


class JsonlSink:
    """Step events as JSON lines on the real stdout; pytest's own lines go to stderr meanwhile."""

    def __init__(self, out: IO[str], secrets: list[str]) -> None:
        self.out = out
        self.secrets = [s for s in secrets if s]
        self.from_reports = False

    def emit(self, event: dict[str, Any]) -> None:
        from tui.voipbin.redact import redact_text

        text = json.dumps(event, ensure_ascii=True, separators=(",", ":"), default=str)
        try:
            self.out.write(redact_text(text, self.secrets) + "\n")
            self.out.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.out.flush()


@contextlib.contextmanager
def _stdout_for_events() -> Iterator[IO[str]]:
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    out = os.fdopen(os.dup(saved), "w", encoding="utf-8", buffering=1)
    try:
        yield out
    finally:
        with contextlib.suppress(Exception):
            out.close()
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


# -- the other commands ---------------------------------------------------------------------------------------


def _subcommand(name: str, args: list[str]) -> int:
    from tui.runner import commands

    try:
        if name == "check":
            return commands.check(args)
        if name == "list":
            return commands.list_scenarios(args)
        if name == "new":
            return commands.new(args)
        if name == "schema":
            return commands.schema(args)
        return commands.from_record(args)
    except SystemExit as exc:
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
