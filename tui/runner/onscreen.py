"""A scenario run on the console's screen (``voipbin-tui --script FILE``), so a failing CI scenario can be watched.

The engine is the one ``voipbin-tui test`` uses (``LiveCall``: the same verbs through the action registry,
the same expectations), on the console's own target and in the call session the console shows. Each step
becomes a STEP line of that session's transcript when it starts, and the same line shows its result when it
ends (``✓ 1.2 s``, ``✗ timeout: …``); a last line gives the verdict. The target stays the console's: the
scenario's clean-up hangs up and deletes its speaking stream, and the console goes on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui.runner.engine import Outcome, StepRecord
from tui.runner.live import LiveCall, run_call
from tui.runner.schema import Scenario
from tui.runner.target import Target, TargetOptions

if TYPE_CHECKING:
    from tui.config import Settings
    from tui.session.call_session import CallSession
    from tui.wiring import Target as WiredTarget

MARKS = {"passed": "✓", "failed": "✗", "skipped": "⤼", "running": "…"}


def describe_step(verb: str, detail: str) -> str:
    """``expect transcript out contains "scripted test" within 15s`` from the trace's verb and JSON detail."""
    if verb != "expect" or not detail.startswith("{"):
        return f"{verb} {detail}".rstrip()
    try:
        data = json.loads(detail)
    except ValueError:
        return f"{verb} {detail}"
    parts = [verb]
    for key, value in data.items():
        if isinstance(value, bool):
            parts.append(key if value else f"{key} false")
        elif isinstance(value, str):
            parts.append(f"{key} {json.dumps(value, ensure_ascii=False)}" if key not in _BARE else f"{key} {value}")
        elif isinstance(value, int | float) and key in _SECONDS:
            parts.append(f"{key} {value:g}s")
        else:
            parts.append(f"{key} {value}")
    return " ".join(parts)


# Keys whose string value is a word of the vocabulary (shown bare), and keys that are durations.
_BARE = frozenset({"call", "transcript", "say", "connection", "state", "by", "reason", "since"})
_SECONDS = frozenset({"within", "for", "latency_max"})


def step_line(record: StepRecord) -> str:
    """``STEP 3 expect transcript out contains "…" ✓ 1.2 s`` or ``… ✗ timeout: closest …``."""
    head = f"STEP {record.index} {describe_step(record.verb, record.detail)}"
    mark = MARKS.get(record.status, record.status)
    if record.status == "running":
        return f"{head} {mark}"
    took = f"{max(0.0, record.ended_s - record.started_s):.1f} s"
    if record.status == "failed":
        return f"{head} {mark} {record.kind or 'error'}: {record.message} ({took})"
    if record.status == "skipped":
        return f"{head} {mark} skipped: {record.message}"
    return f"{head} {mark} {took}"


def verdict_line(outcome: Outcome, total_steps: int) -> str:
    failure = outcome.failure
    if failure is None:
        return f"SCRIPT {outcome.name} passed: {total_steps} step(s) in {outcome.duration_s:.1f} s"
    where = "the dial" if failure.step == -1 else f"step {failure.step}" if failure.step >= 0 else "the run"
    verb = f" ({failure.verb})" if failure.verb else ""
    return f"SCRIPT {outcome.name} failed at {where}{verb}: {failure.kind}: {failure.message}"


@dataclass(slots=True)
class ScriptRun:
    """One scenario, once, in the console. ``outcome`` is set when ``run()`` returns."""

    scenario: Scenario
    outcome: Outcome | None = None
    running: bool = False

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    @property
    def exit_code(self) -> int:
        """0 passed, 1 failed; 2 when the console is left before the script ended (pytest's "interrupted")."""
        if self.outcome is None:
            return 2
        return 0 if self.outcome.passed else 1

    async def run(
        self,
        wired: WiredTarget,
        settings: Settings,
        secrets: list[str],
        new_session: Callable[[], CallSession],
    ) -> Outcome:
        target = Target(wired, settings, secrets=list(secrets), owned=False)
        # The console already chose its target (and the user named it): no second allowance is asked here.
        options = TargetOptions(real=not target.is_sandbox, allow_real=True, settings=settings)
        shown: list[CallSession] = []

        def make_session() -> CallSession:
            session = new_session()
            shown.append(session)
            return session

        def show(record: StepRecord) -> None:
            if shown:
                status = record.status
                shown[-1].annotate(
                    f"step:{record.index}:{record.verb}", step_line(record), kind="step", meta={"status": status}
                )

        def on_event(event: dict[str, Any]) -> None:
            # A step (or check) has just ended: its record is the newest of the trace.
            if "index" in event and "status" in event and call.runner.trace:
                show(call.runner.trace[-1])

        call = LiveCall(self.scenario, options, emit=on_event, target=target, new_session=make_session)
        call.runner.on_start = show
        self.running = True
        try:
            outcome = await run_call(call)
        finally:
            self.running = False
        self.outcome = outcome
        if shown:
            status = "passed" if outcome.passed else "failed"
            shown[-1].annotate(
                "step:verdict", verdict_line(outcome, len(self.scenario.steps)), kind="step", meta={"status": status}
            )
        return outcome
