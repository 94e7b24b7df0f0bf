"""Running a scenario's steps: actions through the verb table, expectations waited for on events.

One loop serves the live run and the replay: a ``Driver`` says what time it is and waits for the next
change (a live call's next update, or the record's next entry in virtual time), so an expectation is
decided the instant the event that satisfies it arrives, and no step ever sleeps except ``wait``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from tui.runner.expectations import (
    Verdict,
    call_verdict,
    clip,
    connection_timeout_kind,
    connection_verdict,
    request_verdict,
    say_verdict,
    transcript_verdict,
)
from tui.runner.failures import FailureKind, ScenarioFailure
from tui.runner.observe import CallLog
from tui.runner.schema import AudioCheck, Check, Expect, Scenario, Step
from tui.runner.text import printable
from tui.session.says import percentile

if TYPE_CHECKING:
    from tui.runner.audio import AudioEvidence

Emit = Callable[[dict[str, Any]], None]
WAIT_SMELL = "wait is a plain sleep: anchor on an event with expect instead"


class Driver(Protocol):
    def now(self) -> float: ...

    async def next_change(self, version: int, deadline: float) -> None:
        """Return at the next change of the log after ``version``, or at ``deadline``."""

    async def pause(self, seconds: float) -> None: ...


@dataclass(slots=True)
class StepRecord:
    index: int
    verb: str
    detail: str
    started_s: float
    ended_s: float = 0.0
    status: str = "running"
    kind: str | None = None
    message: str = ""
    smell: str | None = None
    # An expectation met: when the event that satisfied it arrived (seconds from the start), if one did.
    satisfied_s: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "verb": self.verb,
            "detail": self.detail,
            "started_s": round(self.started_s, 4),
            "ended_s": round(self.ended_s, 4),
            "status": self.status,
        }
        if self.kind:
            out["kind"] = self.kind
        if self.message:
            out["message"] = self.message
        if self.smell:
            out["smell"] = self.smell
        return out


@dataclass(slots=True)
class Outcome:
    """What a scenario run produced, whatever the verdict."""

    name: str
    failure: ScenarioFailure | None = None
    trace: list[StepRecord] = field(default_factory=list)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    artifacts: dict[str, str] = field(default_factory=dict)
    smells: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    target: str = "sandbox"

    @property
    def passed(self) -> bool:
        return self.failure is None

    def trace_text(self) -> str:
        lines = []
        for r in self.trace:
            mark = {"passed": "ok", "failed": "FAIL", "skipped": "skip"}.get(r.status, r.status)
            line = f"[{r.started_s:7.3f}s → {r.ended_s:7.3f}s] {r.index:>3} {r.verb} {r.detail} … {mark}"
            if r.message:
                line += f": {r.message}"
            if r.smell:
                line += f" (smell: {r.smell})"
            lines.append(printable(line))
        return "\n".join(lines)

    def transcript_text(self) -> str:
        return "\n".join(
            printable(f"[{row['t']:7.3f}s] {row['direction']:>3}: {row['text']}") for row in self.transcript
        )


def step_event(scenario: str, record: dict[str, Any]) -> dict[str, Any]:
    """A step record as a ``--format jsonl`` event: ``kind`` says it is a step, as on every event; a failed
    step's failure kind goes in ``failure`` (in the trace, ``kind`` is that failure kind)."""
    fields = dict(record)
    failure = fields.pop("kind", None)
    event = {"kind": "step", "scenario": scenario, **fields}
    if failure and fields.get("status") == "failed":
        event["failure"] = failure
    return event


def step_detail(step: Step) -> str:
    arg = step.arg
    if hasattr(arg, "model_dump"):
        data = {k: v for k, v in arg.model_dump(by_alias=True, exclude_defaults=True).items() if v is not None}
        if step.verb in ("say", "phone.say"):
            return repr(clip(str(data.get("text", "")), 60))
        return json.dumps(data, ensure_ascii=True, default=str) if data else ""
    return "" if arg is None else str(arg)


class StepRunner:
    """Walks the steps; ``act`` performs an action step (live: the verb table; replay: a no-op)."""

    def __init__(
        self,
        scenario: Scenario,
        log: CallLog,
        driver: Driver,
        act: Callable[[int, Step], Awaitable[str | None]],
        emit: Emit | None = None,
    ) -> None:
        self.scenario = scenario
        self.log = log
        self.driver = driver
        self.act = act
        self.emit = emit or (lambda _e: None)
        self.t0 = driver.now()
        self.anchor = self.t0
        self.trace: list[StepRecord] = []
        self.smells: list[str] = []
        # Told when a step starts (its record still "running"): the console's STEP lines, the live view.
        self.on_start: Callable[[StepRecord], None] | None = None
        self._skipping = False
        # The headless phone's measurements for `audio` checks (set by the live run when it has a phone).
        self.audio_evidence: Callable[[], AudioEvidence] | None = None

    def rel(self) -> float:
        return self.driver.now() - self.t0

    def _event(self, record: StepRecord) -> None:
        self.emit(step_event(self.scenario.name, record.as_dict()))

    async def run(self) -> None:
        for index, step in enumerate(self.scenario.steps):
            await self.run_step(index, step)

    async def run_step(self, index: int, step: Step) -> None:
        """One step; raises ScenarioFailure. A step after a skipped action is skipped too when it is an
        expectation (it most likely depends on what was skipped)."""
        record = StepRecord(index, step.verb, step_detail(step), self.rel())
        self.trace.append(record)
        if self.on_start is not None:
            self.on_start(record)
        try:
            if step.expect is not None:
                if self._skipping:
                    record.status, record.message = "skipped", "follows a skipped step"
                    return
                satisfied = await self._expect(index, step.expect)
                if satisfied is not None:
                    record.satisfied_s = satisfied - self.t0
            elif step.wait is not None:
                self._skipping = False
                record.smell = WAIT_SMELL
                self.smells.append(f"step {index}: {WAIT_SMELL}")
                await self.driver.pause(step.wait)
            else:
                self._skipping = False
                self.anchor = self.driver.now()
                skipped = await self.act(index, step)
                if skipped:
                    record.status, record.kind, record.message = "skipped", "skipped", skipped
                    self._skipping = True
                    return
            record.status = "passed"
        except ScenarioFailure as failure:
            record.status, record.kind, record.message = "failed", failure.kind, failure.message
            failure.step, failure.verb = index, step.verb
            raise
        finally:
            record.ended_s = self.rel()
            self._event(record)

    # -- expectations -------------------------------------------------------------------------------------

    def _verdict(self, exp: Expect, *, step_start: float, window_end: float | None) -> Verdict:
        now = self.driver.now()
        subject = exp.subject
        if subject == "transcript":
            since = step_start if exp.absent else (self.anchor if exp.since == "step" else self.t0)
            return transcript_verdict(exp, self.log, since=since, now=now, window_end=window_end)
        if subject == "call":
            return call_verdict(exp, self.log)
        if subject == "say":
            return say_verdict(exp, self.log)
        if subject == "connection":
            return connection_verdict(exp, self.log, since=self.anchor)
        return request_verdict(exp, self.log, since=self.anchor)

    async def _expect(self, index: int, exp: Expect) -> float | None:
        """Wait until met (returns when its satisfying event arrived, if one did); raises ScenarioFailure."""
        start = self.driver.now()
        window_end = start + exp.for_ if exp.absent and exp.for_ is not None else None
        deadline = window_end if window_end is not None else start + exp.within
        while True:
            version = self.log_version()
            verdict = self._verdict(exp, step_start=start, window_end=window_end)
            if verdict.status == "met":
                return verdict.at
            if verdict.status == "failed":
                raise ScenarioFailure(verdict.kind or "error", printable(verdict.message), index, "expect")
            if self.driver.now() >= deadline:
                break
            wake = deadline
            if self.log.ended_at is not None:
                # The settle time after a hangup is decided by the clock, not by an event.
                from tui.runner.expectations import SETTLE_AFTER_HANGUP_S

                wake = min(deadline, max(self.driver.now(), self.log.ended_at + SETTLE_AFTER_HANGUP_S) + 0.01)
            await self.driver.next_change(version, wake)
        kind: FailureKind = connection_timeout_kind(self.log) if exp.subject == "connection" else "timeout"
        limit = exp.for_ if window_end is not None else exp.within
        raise ScenarioFailure(kind, printable(f"not met within {limit:g}s: {verdict.message}"), index, "expect")

    def log_version(self) -> int:
        return self.log.version

    # -- checks after the call ----------------------------------------------------------------------------

    def run_checks(self, unrecognised: int) -> None:
        index = len(self.scenario.steps)
        for check in self.scenario.checks:
            record = StepRecord(index, f"check.{check.kind}", "", self.rel())
            self.trace.append(record)
            try:
                if check.audio is not None:
                    self._audio_check(record, check.audio, index)
                    continue
                problem = self._check(check, unrecognised)
                if problem is not None:
                    kind, message = problem
                    record.status, record.kind, record.message = "failed", kind, message
                    raise ScenarioFailure(kind, message, index, f"check.{check.kind}")
                record.status = "passed"
            finally:
                record.ended_s = self.rel()
                self._event(record)

    def _audio_check(self, record: StepRecord, check: AudioCheck, index: int) -> None:
        from tui.runner.audio import AudioEvidence, audio_result

        evidence = self.audio_evidence() if self.audio_evidence is not None else AudioEvidence()
        result = audio_result(check, evidence)
        if result.figures:
            record.message = ", ".join(f"{k}={v:.3g}" for k, v in sorted(result.figures.items()))
        if result.status == "skipped":
            record.status, record.kind, record.message = "skipped", "skipped", printable(result.message)
            return
        if result.status == "failed":
            kind = cast("FailureKind", result.kind or "error")
            record.status, record.kind, record.message = "failed", kind, printable(result.message)
            raise ScenarioFailure(kind, printable(result.message), index, "check.audio")
        record.status = "passed"

    def _check(self, check: Check, unrecognised: int) -> tuple[FailureKind, str] | None:
        if check.transcripts is not None:
            c = check.transcripts
            count = sum(1 for ln in self.log.lines if c.direction in ("both", ln.direction))
            what = "transcripts" if c.direction == "both" else f"{c.direction} transcripts"
            if c.count_min is not None and count < c.count_min:
                return "text_mismatch", f"{count} {what}, expected at least {c.count_min}"
            if c.count_max is not None and count > c.count_max:
                return "unexpected_event", f"{count} {what}, expected at most {c.count_max}"
        if check.gaps is not None:
            unrecovered = [g for g in self.log.gaps if g.error]
            if len(unrecovered) > check.gaps.unrecovered_max:
                return "connection_unrecovered", f"{len(unrecovered)} gap(s) not backfilled: {unrecovered[0].error}"
            if check.gaps.count_max is not None and len(self.log.gaps) > check.gaps.count_max:
                return "unexpected_event", f"{len(self.log.gaps)} connection gap(s), at most {check.gaps.count_max}"
        if check.frames is not None and unrecognised > check.frames.unrecognised_max:
            return "unexpected_event", f"{unrecognised} unrecognised frame(s), at most {check.frames.unrecognised_max}"
        if check.latency is not None:
            lat = [s.latency_ms for s in self.log.says_in_order() if s.latency_ms is not None]
            for pct, limit in ((50, check.latency.say_heard_p50_max), (95, check.latency.say_heard_p95_max)):
                value = percentile(lat, pct)
                if limit is None:
                    continue
                if value is None:
                    return "latency_exceeded", f"no say was heard, so there is no say→heard p{pct}"
                if value > limit * 1000:
                    return "latency_exceeded", f"say→heard p{pct} {value:.0f} ms, budget {limit * 1000:.0f} ms"
        return None

    def transcript_rows(self) -> list[dict[str, Any]]:
        return [{"t": round(ln.at - self.t0, 4), "direction": ln.direction, "text": ln.text} for ln in self.log.lines]


def write_trace(path: Path, outcome: Outcome) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for record in outcome.trace:
            fh.write(json.dumps(record.as_dict(), ensure_ascii=True) + "\n")
