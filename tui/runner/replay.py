"""Replay: a scenario's expectations checked against a session record, offline, in virtual time.

The record's frames go through the same classifier (``classify_payload``) and the same ``CallSession``
as a live call; the clock is the record's own (``mono``), advanced entry by entry, so a 10-minute call
replays in milliseconds and ``within`` budgets mean what they meant during the call. Action steps do not
act: they move the clock to the moment the record shows the action (a say, the hangup).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

from tui.runner.engine import Emit, Outcome, StepRunner, write_trace
from tui.runner.failures import ScenarioFailure
from tui.runner.observe import CallLog
from tui.runner.schema import Scenario, Step
from tui.runner.text import printable
from tui.session.record import read_record
from tui.session.updates import GapRecovered
from tui.voipbin.events import ConnectionState

# Where a replayed session's REST client points: nothing listens there; the session must not need it.
_NOWHERE = "http://127.0.0.1:9/v1.0"
_ACTION_ENTRY = {"say": ("say", "queued"), "hangup": ("hangup", None)}


class RecordError(Exception):
    pass


def read_entries(path: Path) -> list[dict[str, Any]]:
    try:
        entries = [e for e in read_record(path) if isinstance(e.get("type"), str)]
    except OSError as exc:
        raise RecordError(f"cannot read {path}: {exc.strerror}") from None
    if not entries or entries[0].get("type") != "record":
        raise RecordError(f"{path} is not a voipbin-tui session record")
    # A file written to twice holds two sessions: the last one is the one just recorded.
    starts = [i for i, e in enumerate(entries) if e.get("type") == "record"]
    return entries[starts[-1] :]


class ReplayDriver:
    """Feeds record entries into the session and the log as the virtual clock passes their times."""

    def __init__(self, entries: list[dict[str, Any]], account: Any, log: CallLog) -> None:
        self.entries = entries
        self.account = account
        self.log = log
        self.pos = 0
        self.vt = 0.0

    def now(self) -> float:
        return self.vt

    def _time(self, entry: dict[str, Any]) -> float:
        value = entry.get("mono")
        return float(value) if isinstance(value, int | float) else self.vt

    def feed_one(self) -> None:
        entry = self.entries[self.pos]
        self.pos += 1
        self.vt = max(self.vt, self._time(entry))
        _apply(entry, self.account, self.log, self.vt)

    async def next_change(self, version: int, deadline: float) -> None:
        while self.pos < len(self.entries) and self._time(self.entries[self.pos]) <= deadline:
            self.feed_one()
            # Let the session's callbacks scheduled with call_soon run, as they would live.
            await asyncio.sleep(0)
            if self.log.version != version:
                return
        self.vt = max(self.vt, deadline)

    async def pause(self, seconds: float) -> None:
        await self.next_change(-1, self.vt + seconds)
        end = self.vt + seconds
        while self.pos < len(self.entries) and self._time(self.entries[self.pos]) <= end:
            self.feed_one()
        self.vt = max(self.vt, end)

    def advance_to_action(self, verb: str) -> None:
        """Move to the record's next entry of this action (if it has one), feeding what came before."""
        wanted = _ACTION_ENTRY.get(verb)
        if wanted is None:
            return
        kind, state = wanted
        for i in range(self.pos, len(self.entries)):
            e = self.entries[i]
            if e.get("type") == kind and (state is None or e.get("state") == state):
                while self.pos < i:
                    self.feed_one()
                return

    def drain(self) -> None:
        while self.pos < len(self.entries):
            self.feed_one()


def _apply(entry: dict[str, Any], account: Any, log: CallLog, vt: float) -> None:
    from tui.voipbin.frames import classify_payload

    kind = entry.get("type")
    if kind == "frame":
        data = entry.get("data")
        if not isinstance(data, dict) or entry.get("duplicate"):
            return
        shape = entry.get("shape")
        event = classify_payload(
            data,
            declared=entry.get("event") if isinstance(entry.get("event"), str) else None,
            shape=shape if shape in ("bare", "wrapped", "documented") else "bare",
            received_at=entry.get("received_at") if isinstance(entry.get("received_at"), float) else None,
            received_mono=vt,
        )
        account._on_event(event)
    elif kind == "connection" and isinstance(entry.get("state"), str):
        state = entry["state"]
        if state in ("connecting", "connected", "reconnecting", "reconnected", "closed"):
            log.on_connection(ConnectionState(state=state, error=entry.get("error")))
    elif kind == "gap":
        raw = entry.get("recovered")
        recovered: dict[str, int] = {str(k): int(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        log.gaps.append(
            GapRecovered(
                float(entry.get("started") or 0), float(entry.get("ended") or 0), recovered, entry.get("error")
            )
        )
        log.pulse()
    elif kind == "say" and isinstance(entry.get("id"), str):
        prev = log.says.get(entry["id"])
        log.note_say(
            entry["id"],
            str(entry.get("text") or (prev.text if prev else "")),
            str(entry.get("state") or (prev.state if prev else "queued")),
            entry.get("latency_ms") if isinstance(entry.get("latency_ms"), int | float) else None,
            entry.get("error") if isinstance(entry.get("error"), str) else None,
        )
    elif kind == "call" and isinstance(entry.get("status"), str):
        _apply_call_entry(entry, account, log)
    elif kind == "request" and isinstance(entry.get("method"), str):
        log.note_request(
            entry["method"], str(entry.get("url") or ""), entry.get("status"), entry.get("reason"), entry.get("error")
        )


def _apply_call_entry(entry: dict[str, Any], account: Any, log: CallLog) -> None:
    """A state the session applied from a REST answer (a hangup's reply, a backfill): no frame carried it,
    so the record's own entry stands in for it."""
    from tui.runner.expectations import status_rank

    session = getattr(account, "replay_session", None)
    main = session.call if session is not None else None
    if main is not None and entry.get("id") != main.id:
        return
    last = log.call_status
    status = entry["status"]
    if last is not None and (last.status == status or status_rank(status) < status_rank(last.status)):
        return
    log.note_state(status, str(entry.get("hangup_by") or ""), str(entry.get("hangup_reason") or ""))


def _call_ids(entries: list[dict[str, Any]]) -> set[str]:
    ids = {e["id"] for e in entries if e.get("type") == "call" and isinstance(e.get("id"), str)}
    for e in entries:
        if e.get("type") == "groupcall":
            ids.update(c for c in e.get("call_ids") or [] if isinstance(c, str))
    return ids


def _first_groupcall(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    for e in entries:
        if e.get("type") == "frame" and e.get("kind") == "groupcall" and isinstance(e.get("data"), dict):
            data: dict[str, Any] = e["data"]
            return data
    return None


async def _replay(scenario: Scenario, entries: list[dict[str, Any]], outcome: Outcome, emit: Emit) -> None:
    from tui.session.account import Account
    from tui.session.call_session import CallSession
    from tui.session.speaking import SpeakingOptions
    from tui.voipbin.models import Groupcall
    from tui.voipbin.rest import VoipbinClient

    account = Account(VoipbinClient(_NOWHERE, accesskey="vb_replay", timeout=0.5), label="replay")
    driver_box: list[ReplayDriver] = []
    log = CallLog(lambda: driver_box[0].now() if driver_box else 0.0)
    session = CallSession(account, speaking=SpeakingOptions(auto_open=False))
    account.replay_session = session  # type: ignore[attr-defined]
    driver = ReplayDriver(entries, account, log)
    driver_box.append(driver)
    session.subscribe(log.on_update)
    # The ids the live session learnt from POST /calls (not a frame): the record has them.
    session.pending_legs.update(_call_ids(entries))
    session.claim(*session.pending_legs)
    gc = _first_groupcall(entries)
    if gc is not None:
        with contextlib.suppress(Exception):
            session.leg_tracker.apply_groupcall(Groupcall.model_validate(gc))
    session.set_phase("live")

    async def act(index: int, step: Step) -> str | None:
        driver.advance_to_action(step.verb)
        return None

    runner = StepRunner(scenario, log, driver, act, emit)
    try:
        await runner.run()
        driver.drain()
        await asyncio.sleep(0)
        runner.run_checks(account.unrecognised_seen)
    except ScenarioFailure as failure:
        outcome.failure = failure
    except Exception as exc:
        outcome.failure = ScenarioFailure("error", printable(f"replay error: {type(exc).__name__}: {exc}"))
    finally:
        outcome.trace = runner.trace
        outcome.smells = runner.smells
        outcome.transcript = runner.transcript_rows()
        with contextlib.suppress(Exception):
            await session.close()
        with contextlib.suppress(Exception):
            await account.close()


def run_replay(scenario: Scenario, record: Path, artifacts: Path | None = None, emit: Emit | None = None) -> Outcome:
    emit = emit or (lambda _e: None)
    outcome = Outcome(scenario.name, target="replay")
    started = time.monotonic()
    try:
        entries = read_entries(record)
    except RecordError as exc:
        outcome.failure = ScenarioFailure("error", printable(str(exc)), -1, "replay")
        return outcome
    asyncio.run(_replay(scenario, entries, outcome, emit))
    outcome.duration_s = time.monotonic() - started
    outcome.artifacts["record"] = str(record)
    if artifacts is not None:
        with contextlib.suppress(OSError):
            write_trace(artifacts / "trace.jsonl", outcome)
            outcome.artifacts["trace"] = str(artifacts / "trace.jsonl")
    emit(
        {
            "kind": "scenario",
            "event": "finished",
            "scenario": scenario.name,
            "status": "passed" if outcome.passed else "failed",
            **({"failure": outcome.failure.as_dict()} if outcome.failure else {}),
        }
    )
    return outcome
