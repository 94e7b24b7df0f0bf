"""A scenario against a live target: its own sandbox (or the real service), the console's CallSession.

Clean-up always runs, on success, failure, timeout and cancellation (Ctrl+C) alike: the call is hung
up, the speaking stream we opened is stopped and deleted, the session record is closed and the
transcript exported, then the account and the sandbox are shut.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tui.runner.engine import Emit, Outcome, StepRunner, write_trace
from tui.runner.failures import ScenarioFailure
from tui.runner.observe import CallLog
from tui.runner.schema import Scenario, Step
from tui.runner.target import Target, TargetError, TargetOptions, open_target
from tui.runner.text import printable
from tui.runner.verbs import SANDBOX_ONLY, StepError, run_verb
from tui.voipbin.errors import VoipbinError
from tui.voipbin.redact import redact_text

if TYPE_CHECKING:
    from tui.runner.audio import AudioEvidence

CLEANUP_TIMEOUT_S = 10.0
# The scenario call whose task is running (see ``LiveCall._on_request``).
_CURRENT: contextvars.ContextVar[LiveCall | None] = contextvars.ContextVar("voipbin_scenario_call", default=None)


class _RequestRouter:
    """The one request listener of an account shared by concurrent scenario calls.

    A request is a call's when that call's task (or a task it started) made it; requests started by events
    (e.g. the speaking stream's auto-open) are attributed to no call. One listener that looks the call up
    costs the same per request however many calls share the account; one listener per call that each
    checked would cost N per request, N² over a burst of N dials."""

    _routers: ClassVar[weakref.WeakKeyDictionary[Any, _RequestRouter]] = weakref.WeakKeyDictionary()

    def __init__(self, account: Any) -> None:
        self._account = weakref.ref(account)
        self.calls = 0

    @classmethod
    def join(cls, account: Any) -> None:
        router = cls._routers.get(account)
        if router is None:
            router = cls._routers[account] = cls(account)
            account.add_request_listener(router)
        router.calls += 1

    @classmethod
    def leave(cls, account: Any) -> None:
        router = cls._routers.get(account)
        if router is None:
            return
        router.calls -= 1
        if router.calls <= 0:
            del cls._routers[account]
            account.remove_request_listener(router)

    def __call__(self, record: Any) -> None:
        call = _CURRENT.get(None)
        if call is not None and call.target is not None and call.target.account is self._account():
            call.log.on_request(record)


class LiveDriver:
    def __init__(self, log: CallLog) -> None:
        self.log = log

    def now(self) -> float:
        return time.monotonic()

    async def next_change(self, version: int, deadline: float) -> None:
        await self.log.changed(version, deadline - time.monotonic())

    async def pause(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class LiveCall:
    """One scenario's call, step by step: ``start()``, ``step()``… ``checks()``, then always ``close()``."""

    def __init__(
        self,
        scenario: Scenario,
        options: TargetOptions,
        artifacts: Path | None = None,
        emit: Emit | None = None,
        *,
        target: Target | None = None,
        new_session: Callable[[], Any] | None = None,
    ) -> None:
        """``target`` and ``new_session``: run on a target someone else opened, in a session they made (the
        console's ``--script``: its own account, its session on screen); the target is then theirs to close."""
        self.scenario = scenario
        self.options = options
        self.artifacts = artifacts
        self.emit = emit or (lambda _e: None)
        self.outcome = Outcome(scenario.name, target="service" if options.real else "sandbox")
        self.log = CallLog(time.monotonic)
        self.target: Target | None = target
        self._new_session = new_session
        self.session: Any = None
        self.runner = StepRunner(scenario, self.log, LiveDriver(self.log), self._act, self.emit)
        self._started = time.monotonic()
        self._listener: Any = None

    @property
    def secrets(self) -> list[str]:
        return list(self.target.secrets) if self.target is not None else []

    async def start(self) -> None:
        """Open the target, then dial (or attach). Raises ScenarioFailure."""
        from tui.session.call_session import CallSession
        from tui.session.record import SessionRecorder

        self.emit(
            {"kind": "scenario", "event": "started", "scenario": self.scenario.name, "target": self.outcome.target}
        )
        target = self.target
        if target is None:
            try:
                self.target = target = await open_target(self.scenario, self.options)
            except TargetError as exc:
                raise ScenarioFailure("error", printable(str(exc)), -1, "setup") from None
        if self._new_session is not None:
            self.session = session = self._new_session()
        else:
            artifacts = self.artifacts
            recorder = SessionRecorder(artifacts / "record.jsonl" if artifacts else None, self.secrets)
            self.session = session = CallSession(target.account, speaking=target.speaking_options(), recorder=recorder)
        self.log.arrival = lambda: getattr(session, "applying_since", None)
        session.subscribe(self.log.on_update)
        if target.wired.headless is not None:
            self.runner.audio_evidence = self._audio_evidence
        self._listener = target.account.listen(on_connection=self.log.on_connection)
        if self.options.share_account:
            _RequestRouter.join(target.account)
        else:
            target.account.add_request_listener(self._on_request)
        _CURRENT.set(self)
        session.subscribe(lambda u: _stream_update(u, self.scenario.name, self.emit))
        try:
            if self.scenario.attach is not None:
                await session.attach(self.scenario.attach)
            else:
                await _dial(session, self.scenario)
        except VoipbinError as exc:
            raise ScenarioFailure("request_failed", printable(f"dial: {exc}"), -1, "call") from None
        except ValueError as exc:
            raise ScenarioFailure("error", printable(f"dial: {exc}"), -1, "call") from None

    def _audio_evidence(self) -> AudioEvidence:
        """The headless phone's lines, each say's POST time, and how many `in` lines VoIPBIN transcribed."""
        from tui.runner.audio import AudioEvidence

        assert self.target is not None
        headless = self.target.wired.headless
        session = self.session
        says = [(item.text, item.sent_at) for item in session.ledger.items] if session is not None else []
        return AudioEvidence(
            phone_lines=list(headless.lines) if headless is not None else [],
            says=says,
            in_transcripts=sum(1 for ln in self.log.lines if ln.direction == "in"),
            stt=bool(headless is not None and headless.settings.stt_model),
        )

    def _on_request(self, record: Any) -> None:
        # On an account of its own, every request of the account is this call's.
        self.log.on_request(record)

    async def _act(self, index: int, step: Step) -> str | None:
        verb = step.verb
        target = self.target
        assert target is not None
        headless = target.wired.headless
        if verb in SANDBOX_ONLY and not target.is_sandbox and not (headless is not None and verb.startswith("phone.")):
            return f"{verb} acts on the sandbox's simulated phone; not available on the real service"
        try:
            result = await run_verb(verb, step.arg, self.session, target.phone, phone=headless)
        except VoipbinError as exc:
            raise ScenarioFailure("request_failed", printable(f"{verb}: {exc}"), index, verb) from None
        except StepError as exc:
            raise ScenarioFailure(exc.kind, printable(str(exc)), index, verb) from None
        if verb == "say" and isinstance(result, list):
            # Noted now, not when the session reports them: `expect: {say: last}` right after must see it.
            for item in result:
                self.log.note_say(item.id, item.text, item.state, None)
        return None

    async def step(self, step: Step) -> None:
        await self.runner.run_step(len(self.runner.trace), step)

    async def run_steps(self) -> None:
        await self.runner.run()

    async def checks(self) -> None:
        await _settle_for_checks(self.log, self.scenario)
        assert self.target is not None
        self.runner.run_checks(self.target.account.unrecognised_seen)

    async def close(self) -> Outcome:
        """Hang up, stop and delete our speaking stream, export, shut the target. Never raises."""
        outcome = self.outcome
        outcome.trace = self.runner.trace
        outcome.smells = self.runner.smells
        outcome.transcript = self.runner.transcript_rows()
        session, target = self.session, self.target
        if session is not None:
            try:
                async with asyncio.timeout(CLEANUP_TIMEOUT_S):
                    await session.close(hangup=True)
            except Exception:
                if outcome.failure is None:
                    outcome.failure = ScenarioFailure("error", "clean-up did not finish (see the session record)")
            if self.artifacts is not None:
                outcome.artifacts.update(_export(session, self.artifacts))
        if target is not None:
            if self._listener is not None:
                target.account.remove_listener(self._listener)
            if self.options.share_account:
                _RequestRouter.leave(target.account)
            else:
                target.account.remove_request_listener(self._on_request)
            await target.close()
        outcome.duration_s = time.monotonic() - self._started
        if outcome.failure is not None:
            outcome.failure.message = redact_text(outcome.failure.message, self.secrets)
        if self.artifacts is not None:
            with contextlib.suppress(OSError):
                write_trace(self.artifacts / "trace.jsonl", outcome)
                outcome.artifacts["trace"] = str(self.artifacts / "trace.jsonl")
        self.emit(
            {
                "kind": "scenario",
                "event": "finished",
                "scenario": self.scenario.name,
                "status": "passed" if outcome.passed else "failed",
                "duration_s": round(outcome.duration_s, 3),
                **({"failure": outcome.failure.as_dict()} if outcome.failure else {}),
            }
        )
        return outcome


async def run_live(
    scenario: Scenario, options: TargetOptions, artifacts: Path | None = None, emit: Emit | None = None
) -> Outcome:
    """The whole scenario; the outcome carries the failure (if any), the trace and the artifacts."""
    return await run_call(LiveCall(scenario, options, artifacts, emit))


async def run_call(call: LiveCall) -> Outcome:
    """Start, steps, checks, and always the clean-up, within the scenario's timeout."""
    scenario = call.scenario
    try:
        async with asyncio.timeout(scenario.timeout):
            await call.start()
            await call.run_steps()
            await call.checks()
    except ScenarioFailure as failure:
        call.outcome.failure = failure
    except TimeoutError:
        current = call.runner.trace[-1] if call.runner.trace else None
        call.outcome.failure = ScenarioFailure(
            "timeout",
            f"the scenario did not finish within its timeout of {scenario.timeout:g}s",
            current.index if current else -1,
            current.verb if current else "",
        )
    except Exception as exc:
        call.outcome.failure = ScenarioFailure("error", printable(f"runner error: {type(exc).__name__}: {exc}"))
    finally:
        await run_to_completion(call.close())
    return call.outcome


async def run_to_completion(coro: Any) -> Any:
    """Await ``coro`` to its end even when cancelled meanwhile (Ctrl+C must still hang up and delete the
    speaking stream), then pass the cancellation on."""
    task = asyncio.ensure_future(coro)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(task)
            break
        except asyncio.CancelledError:
            if task.done():
                raise
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return result


async def _dial(session: Any, scenario: Scenario) -> None:
    """POST /calls with the scenario's own actions, through the session's dial path."""
    from tui.session.dial import DialRequest

    spec = scenario.call
    assert spec is not None
    destination = spec.destination if isinstance(spec.destination, str) else spec.destination.target
    dtype = "auto" if isinstance(spec.destination, str) else spec.destination.type
    request = DialRequest(
        source=spec.source,
        destination=destination,
        destination_type=dtype,
        language=spec.language,
        custom_actions=tuple(a.model_dump() for a in spec.actions),
    )
    await session.dial(request)


async def _settle_for_checks(log: CallLog, scenario: Scenario) -> None:
    """Checks look at the whole call: let the last transcripts of a hung-up call land first."""
    from tui.runner.expectations import SETTLE_AFTER_HANGUP_S

    if not scenario.checks or log.ended_at is None:
        return
    while not log.settled(time.monotonic(), SETTLE_AFTER_HANGUP_S):
        await log.changed(log.version, log.ended_at + SETTLE_AFTER_HANGUP_S - time.monotonic())


def _export(session: Any, directory: Path) -> dict[str, str]:
    from tui.session.export import export

    out: dict[str, str] = {}
    if session.recorder.path is not None:
        out["record"] = str(session.recorder.path)
    try:
        for path in export(session, directory):
            out[f"transcript_{path.suffix.lstrip('.')}"] = str(path)
    except OSError:
        pass
    return out


def _stream_update(update: Any, name: str, emit: Emit) -> None:
    from tui.session.updates import CallUpdated, TranscriptUpdated

    if isinstance(update, TranscriptUpdated):
        for change in update.changes:
            line = change.line
            if line.kind == "transcript" and change.op == "insert":
                emit({"kind": "transcript", "scenario": name, "direction": line.direction, "text": line.text})
    elif isinstance(update, CallUpdated) and update.call is not None:
        call = update.call
        emit({"kind": "call", "scenario": name, "status": call.status, "hangup_by": call.hangup_by or None})
