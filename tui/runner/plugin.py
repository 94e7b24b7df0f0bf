"""The pytest plugin: scenario files as test items (registered as ``pytest11`` entry point).

It collects only ``*.scenario.yaml|yml|toml`` files, or a YAML/TOML file named explicitly on the command
line, so it never touches another project's tests. Module level stays import-light: pytest loads this
in every session of every project that has voipbin-tui installed.

The outcome of each scenario travels in ``user_properties`` (which pytest-xdist carries back to the
controller), so the JSON report, the JUnit file, the pass rates and the failure summary are written by
the controller whether the run was parallel or not.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tui.runner.engine import Outcome
    from tui.runner.progress import LiveProgress, ProgressBoard
    from tui.runner.schema import Scenario
    from tui.runner.step_feed import StepWriter

OUTCOME_PROP = "voipbin_scenario"
SCHEMA_ERROR_MARK = "voipbin-tui scenario:"
# The front's JSON-lines sink registers under its class's plugin name; found by type, not by name.
SINK_CLASS = "JsonlSink"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("voipbin-scenarios", "voipbin-tui scenario files (voipbin-tui test)")
    group.addoption("--scenario-real", action="store_true", help="run on the configured VoIPBIN service")
    group.addoption("--scenario-allow-real", action="store_true", help="allow calls on the real service")
    group.addoption("--scenario-max-calls", type=int, default=10, help="most calls a real run may place (10)")
    group.addoption("--scenario-config", metavar="PATH", help="voipbin-tui config file")
    group.addoption("--scenario-profile", metavar="NAME", help="[profiles.NAME] of the config file")
    group.addoption("--scenario-artifacts", metavar="DIR", help="where each scenario's record, transcript, trace go")
    group.addoption("--scenario-repeat", type=int, default=1, metavar="N", help="run each scenario N times")
    group.addoption("--scenario-tag", action="append", default=[], metavar="TAG", help="only scenarios with TAG")
    group.addoption("--scenario-json", metavar="FILE", help="write a JSON report")
    group.addoption("--scenario-junit", metavar="FILE", help="write JUnit XML (failure type = kind)")
    group.addoption("--scenario-replay", metavar="RECORD", help="check expectations against a session record")
    group.addoption(
        "--scenario-heartbeat", type=float, default=5.0, metavar="S", help="progress line period without a TTY"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scenario: a voipbin-tui scenario file")
    if _draws_live_view(config) and getattr(config.option, "numprocesses", None):
        # Before xdist starts the workers, so that they inherit where to write their step starts.
        from tui.runner.step_feed import open_feed

        config.stash[_STEP_FEED] = open_feed()
    explicit: set[Path] = set()
    for arg in config.args:
        path = Path(str(arg).split("::", 1)[0])
        if path.suffix in (".yaml", ".yml", ".toml"):
            explicit.add(path.resolve())
    config.stash[_EXPLICIT] = explicit


_EXPLICIT = pytest.StashKey[set[Path]]()
_STEP_FEED = pytest.StashKey[Path]()


def _draws_live_view(config: pytest.Config) -> bool:
    """The controller on a TTY with progress on: the live view (else a heartbeat line, or nothing)."""
    period = float(config.getoption("--scenario-heartbeat") or 0)
    return not hasattr(config, "workerinput") and period > 0 and sys.stderr.isatty()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    from tui.runner.loader import SUFFIXES, is_scenario_name

    if file_path.suffix not in SUFFIXES:
        return None
    if not is_scenario_name(file_path) and file_path.resolve() not in parent.config.stash.get(_EXPLICIT, set()):
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from tui.runner.loader import load_scenario

        scenario = load_scenario(self.path)
        repeat = max(1, int(self.config.getoption("--scenario-repeat") or 1))
        for run in range(1, repeat + 1):
            name = scenario.name if repeat == 1 else f"{scenario.name}[run-{run}]"
            item = ScenarioItem.from_parent(self, name=name, scenario=scenario, run=run)
            item.extra_keyword_matches.update(scenario.tags)
            yield item

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        from tui.runner.loader import ScenarioError

        if isinstance(excinfo.value, ScenarioError):
            return f"{SCHEMA_ERROR_MARK} {excinfo.value}"
        return super().repr_failure(excinfo)


class ScenarioFailed(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.failure.message if outcome.failure else "")
        self.outcome = outcome


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Scenario, run: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.run = run
        self.add_marker("scenario")

    def runtest(self) -> None:
        from tui.runner.target import TargetOptions

        config = self.config
        artifacts = _artifact_dir(config, self.name)
        reporter = config.pluginmanager.get_plugin(REPORTER_NAME)
        emit = reporter.emit_live() if reporter is not None else None
        replay = config.getoption("--scenario-replay")
        if replay:
            from tui.runner.replay import run_replay

            outcome = run_replay(self.scenario, Path(replay), artifacts, emit)
        else:
            from tui.runner.interrupts import run_interruptibly
            from tui.runner.live import LiveCall, run_call

            options = TargetOptions(
                real=bool(config.getoption("--scenario-real")),
                allow_real=bool(config.getoption("--scenario-allow-real")),
                config=config.getoption("--scenario-config"),
                profile=config.getoption("--scenario-profile"),
            )
            call = LiveCall(self.scenario, options, artifacts, emit)
            board = reporter.board if reporter is not None else None
            writer = reporter.step_writer if reporter is not None else None
            name = self.name
            if board is not None:
                call.runner.on_start = lambda record: board.step_started(name, record)
            elif writer is not None:
                # A --jobs worker: the controller's view hears of each step through the step feed.
                call.runner.on_start = lambda record: writer.step_started(name, record)
            outcome = run_interruptibly(lambda: run_call(call))
        self.user_properties.append((OUTCOME_PROP, json.dumps(_outcome_dict(self, outcome), ensure_ascii=True)))
        if outcome.failure is not None:
            raise ScenarioFailed(outcome)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ScenarioFailed):
            o = excinfo.value.outcome
            f = o.failure
            assert f is not None
            head = f"{f.kind} at step {f.step} ({f.verb}): {f.message}"
            parts = [head, "", "step trace:", o.trace_text() or "(none)"]
            if o.transcript:
                parts += ["", "transcript:", o.transcript_text()]
            if o.artifacts:
                parts += ["", "artifacts:", *(f"  {k}: {v}" for k, v in sorted(o.artifacts.items()))]
            return "\n".join(parts)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario {self.name}"


def _artifact_dir(config: pytest.Config, name: str) -> Path:
    base = config.getoption("--scenario-artifacts")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    if base:
        root = Path(base)
        worker = getattr(config, "workerinput", {}).get("workerid")
        path = root / safe
        if path.exists():
            path = root / f"{safe}-{worker or os.getpid()}-{time.monotonic_ns()}"
        path.mkdir(parents=True, exist_ok=True)
        return path
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is not None:
        return Path(factory.mktemp(safe, numbered=True))
    import tempfile

    return Path(tempfile.mkdtemp(prefix=f"{safe}-"))


def _outcome_dict(item: ScenarioItem, outcome: Outcome) -> dict[str, Any]:
    return {
        "name": outcome.name,
        "item": item.name,
        "file": str(item.path),
        "run": item.run,
        "target": outcome.target,
        "duration_s": round(outcome.duration_s, 3),
        "failure": outcome.failure.as_dict() if outcome.failure else None,
        "trace": [r.as_dict() for r in outcome.trace],
        "transcript": outcome.transcript,
        "artifacts": outcome.artifacts,
        "smells": outcome.smells,
    }


# -- selection and safety -----------------------------------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tags = set(config.getoption("--scenario-tag") or [])
    if tags:
        keep = [i for i in items if not isinstance(i, ScenarioItem) or tags & set(i.scenario.tags)]
        dropped = [i for i in items if i not in keep]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep
    if config.getoption("--scenario-real") and not config.getoption("--scenario-replay"):
        calls = sum(1 for i in items if isinstance(i, ScenarioItem) and i.scenario.places_call)
        limit = int(config.getoption("--scenario-max-calls"))
        if calls > limit:
            raise pytest.UsageError(f"this run would place {calls} real calls; --max-calls is {limit}")
    if any(isinstance(i, ScenarioItem) for i in items):
        # This process runs scenario calls (the runner command's session, or one of its --jobs workers):
        # keep the cycle collector off their event loops. A session with only ordinary tests is left alone.
        from tui.runner.process_tuning import tune_for_scenario_calls

        tune_for_scenario_calls()


# -- reports (controller side) ------------------------------------------------------------------------------


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if not config.pluginmanager.has_plugin(REPORTER_NAME):
        config.pluginmanager.register(Reporter(config), REPORTER_NAME)


REPORTER_NAME = "voipbin-scenario-reporter"


class Reporter:
    """One per pytest session: gathers the scenario outcomes and writes the reports at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: list[dict[str, Any]] = []
        self.schema_errors = 0
        self.worker = hasattr(config, "workerinput")
        self.sink = next((p for p in config.pluginmanager.get_plugins() if type(p).__name__ == SINK_CLASS), None)
        if self.sink is not None:
            self.sink.from_reports = bool(getattr(config.option, "numprocesses", None))
        self.heartbeat: Heartbeat | None = None
        # On a TTY a live view redraws instead (each running scenario, its current step, the time).
        self.board: ProgressBoard | None = None
        self.live: LiveProgress | None = None
        self.step_writer: StepWriter | None = None
        self._begun = False
        period = float(config.getoption("--scenario-heartbeat") or 0)
        if not self.worker and period > 0 and not sys.stderr.isatty():
            self.heartbeat = Heartbeat(period)
        elif not self.worker and period > 0:
            from tui.runner.progress import LiveProgress, ProgressBoard
            from tui.runner.step_feed import StepReader

            self.board = ProgressBoard()
            self.live = LiveProgress(self.board, 2)
            feed = config.stash.get(_STEP_FEED, None)
            if feed is not None:
                self.board.feed = StepReader(feed)
        elif self.worker:
            from tui.runner.step_feed import StepWriter

            self.step_writer = StepWriter.from_env()

    def emit_live(self) -> Any:
        if self.sink is None or self.worker or self.sink.from_reports:
            return None
        return self.sink.emit

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._begin(sum(1 for i in session.items if isinstance(i, ScenarioItem)))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        # With --jobs the controller collects nothing itself: the workers' collections say how many.
        self._begin(sum(1 for i in ids if Path(i.split("::", 1)[0]).suffix in (".yaml", ".yml", ".toml")))

    def _begin(self, total: int) -> None:
        if not total or self._begun:
            return
        self._begun = True
        if self.heartbeat is not None:
            self.heartbeat.start(total)
        if self.live is not None and self.board is not None:
            self.board.total = total
            self.live.start()

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        if self.board is not None and Path(location[0]).suffix in (".yaml", ".yml", ".toml"):
            self.board.started(nodeid.rsplit("::", 1)[-1])

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and SCHEMA_ERROR_MARK in str(report.longrepr):
            self.schema_errors += 1

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        raw = dict(report.user_properties).get(OUTCOME_PROP)
        if isinstance(raw, str):
            data = json.loads(raw)
            data["status"] = "passed" if report.passed else "failed"
        elif "scenario" in report.keywords and report.failed:
            data = {
                "name": report.nodeid.rsplit("::", 1)[-1],
                "item": report.nodeid,
                "status": "failed",
                "failure": {"kind": "error", "step": -1, "verb": "", "message": str(report.longrepr)[-2000:]},
                "trace": [],
                "transcript": [],
            }
        else:
            return
        self.results.append(data)
        if self.sink is not None and self.sink.from_reports:
            from tui.runner.engine import step_event

            for row in data["trace"]:
                self.sink.emit(step_event(data["name"], row))
            self.sink.emit(_finished_event(data))
        if self.heartbeat is not None:
            self.heartbeat.done(report.passed)
        if self.board is not None:
            failure = data.get("failure") or {}
            text = (
                f"{failure.get('kind')} at step {failure.get('step')}: {failure.get('message', '')}" if failure else ""
            )
            self.board.finished(report.nodeid.rsplit("::", 1)[-1], report.passed, text)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.heartbeat is not None:
            self.heartbeat.stop()
        if self.live is not None:
            self.live.stop()
        if self.worker:
            return
        feed = self.config.stash.get(_STEP_FEED, None)
        if feed is not None:
            from tui.runner.step_feed import close_feed

            close_feed(feed)
        if self.schema_errors:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        from tui.runner.reports import json_report, junit_xml

        json_path = self.config.getoption("--scenario-json")
        if json_path:
            Path(json_path).write_text(json.dumps(json_report(self.results), indent=2, ensure_ascii=True) + "\n")
        junit_path = self.config.getoption("--scenario-junit")
        if junit_path:
            Path(junit_path).write_bytes(junit_xml(self.results))

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        if not self.results:
            return
        from tui.runner.reports import failure_lines, pass_rates

        failures = failure_lines(self.results)
        if failures:
            terminalreporter.section("scenario failures")
            for line in failures:
                terminalreporter.write_line(line)
        rates = pass_rates(self.results)
        if any(r["runs"] > 1 for r in rates.values()):
            terminalreporter.section("scenario pass rates")
            for name, r in sorted(rates.items()):
                terminalreporter.write_line(f"{name}: {r['passed']}/{r['runs']} passed ({r['rate'] * 100:.0f}%)")
        smells = sorted({f"{d['name']}: {s}" for d in self.results for s in d.get("smells", [])})
        if smells:
            terminalreporter.section("scenario smells")
            for line in smells:
                terminalreporter.write_line(line)


def _finished_event(data: dict[str, Any]) -> dict[str, Any]:
    event = {"kind": "scenario", "event": "finished", "scenario": data["name"], "status": data["status"]}
    if data.get("failure"):
        event["failure"] = data["failure"]
    return event


class Heartbeat:
    """Without a TTY nothing redraws: a line on stderr every few seconds says the run is alive."""

    def __init__(self, period: float) -> None:
        self.period = period
        self.total = 0
        self.passed = 0
        self.failed = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = time.monotonic()
        # The real stderr, taken before pytest captures fd 2 around each test.
        self._fd = os.dup(2)

    def start(self, total: int) -> None:
        self.total = total
        self._thread = threading.Thread(target=self._loop, name="scenario-heartbeat", daemon=True)
        self._thread.start()

    def done(self, passed: bool) -> None:
        if passed:
            self.passed += 1
        else:
            self.failed += 1

    def _loop(self) -> None:
        while not self._stop.wait(self.period):
            done = self.passed + self.failed
            line = (
                f"voipbin-tui test: {done}/{self.total} scenarios done ({self.passed} passed, {self.failed} failed), "
                f"{time.monotonic() - self._t0:.0f}s\n"
            )
            try:
                os.write(self._fd, line.encode())
            except OSError:
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1)
        try:
            os.close(self._fd)
        except OSError:
            pass


@pytest.fixture
def voipbin_call(tmp_path: Path) -> Any:
    """``async with voipbin_call({...scenario fields...}) as call:`` — a call driven step by step on its own
    sandbox (artifacts in the test's tmp_path)."""
    from tui.runner.drive import scenario_call

    def open_call(scenario: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("artifacts", tmp_path)
        return scenario_call(scenario, **kwargs)

    return open_call
