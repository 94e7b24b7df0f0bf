"""What a step reports: its jsonl event, when its expectation's evidence arrived, and --jobs progress."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tui.runner.engine import StepRecord, StepRunner, step_event
from tui.runner.expectations import call_verdict, transcript_verdict
from tui.runner.failures import ScenarioFailure
from tui.runner.observe import CallLog
from tui.runner.progress import ProgressBoard
from tui.runner.schema import Expect, Scenario
from tui.runner.step_feed import FEED_ENV, StepReader, StepWriter, close_feed, open_feed
from tui.session.transcript import TranscriptBook
from tui.session.updates import TranscriptUpdated


class StepClock:
    """A driver whose time jumps to each deadline: a wait that nothing ends times out at once."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    async def next_change(self, version: int, deadline: float) -> None:
        self.t = max(self.t, deadline)

    async def pause(self, seconds: float) -> None:
        self.t += seconds


def scenario(*steps: dict[str, Any]) -> Scenario:
    return Scenario.model_validate({"name": "reporting", "steps": list(steps)})


async def test_a_failed_step_event_keeps_kind_step_and_names_its_failure() -> None:
    events: list[dict[str, Any]] = []
    clock = StepClock()
    sc = scenario({"expect": {"call": "progressing", "within": "1s"}})
    runner = StepRunner(sc, CallLog(clock.now), clock, _no_action, events.append)
    with pytest.raises(ScenarioFailure):
        await runner.run()
    (event,) = events
    assert event["kind"] == "step"
    assert event["status"] == "failed"
    assert event["failure"] == "timeout"
    assert event["message"].startswith("not met within 1s")
    # The trace keeps its own shape: there, kind is the failure kind.
    assert runner.trace[0].as_dict()["kind"] == "timeout"


def test_a_worker_trace_row_becomes_the_same_event() -> None:
    row = StepRecord(2, "expect", "", 1.0, 2.0, "failed", "text_mismatch", "closest: 'x'").as_dict()
    event = step_event("s", row)
    assert (event["kind"], event["failure"], event["index"], event["scenario"]) == ("step", "text_mismatch", 2, "s")
    passed = step_event("s", StepRecord(0, "say", "'hi'", 0.0, 0.1, "passed").as_dict())
    assert passed["kind"] == "step"
    assert "failure" not in passed


async def _no_action(index: int, step: Any) -> str | None:
    return None


def test_a_met_expectation_says_when_its_evidence_arrived_not_when_it_was_applied() -> None:
    now = [5.0]
    log = CallLog(lambda: now[0])
    arrivals: list[float | None] = [3.25]
    log.arrival = lambda: arrivals[0]
    book = TranscriptBook()
    changes = book.add_transcript(
        transcript_id="t1", transcribe_id="tr", direction="out", text="This is the scripted test.", at=datetime.now(UTC)
    )
    log.on_update(TranscriptUpdated(tuple(changes)))
    verdict = transcript_verdict(
        Expect.model_validate({"transcript": "out", "contains": "scripted test"}),
        log,
        since=0.0,
        now=5.0,
        window_end=None,
    )
    assert (verdict.status, verdict.at) == ("met", 3.25)
    arrivals[0] = None  # news not brought by an event (an HTTP answer): the moment it was applied
    now[0] = 7.0
    log.note_state("progressing", "", "")
    assert call_verdict(Expect.model_validate({"call": "progressing"}), log).at == 7.0


def test_jobs_workers_steps_reach_the_controllers_board(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(FEED_ENV, raising=False)
    directory = open_feed()
    try:
        writer = StepWriter.from_env()
        assert writer is not None
        board = ProgressBoard(total=1)
        board.feed = StepReader(directory)
        board.started("seed")
        writer.step_started("seed", StepRecord(0, "expect", '{"call": "progressing"}', 0.1))
        writer.step_started("seed", StepRecord(1, "say", "'Your order has shipped.'", 0.5))
        with writer.path.open("a") as fh:
            fh.write('{"scenario": "seed", "ind')  # a line half written: read on a later redraw
        board.__rich__()
        _, (row,) = board.snapshot()
        assert row.step.startswith("1 say")
        board.finished("seed", True)
        writer.step_started("seed", StepRecord(2, "expect", "", 0.9))
        board.__rich__()
        assert board.snapshot()[1][0].status == "passed"
    finally:
        close_feed(directory)
    assert not directory.exists()
    assert FEED_ENV not in os.environ
