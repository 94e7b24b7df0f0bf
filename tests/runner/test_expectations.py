"""Expectation verdicts on a hand-fed call log (the same log live runs and replays feed)."""

from __future__ import annotations

from typing import Any

import pytest

from tui.runner.expectations import (
    call_verdict,
    line_matches,
    request_verdict,
    say_verdict,
    transcript_verdict,
    wer,
)
from tui.runner.observe import CallLog, SeenLine
from tui.runner.schema import Expect


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def expect(**fields: Any) -> Expect:
    return Expect.model_validate(fields)


def log_with(*lines: tuple[str, str]) -> CallLog:
    log = CallLog(Clock())
    for i, (direction, text) in enumerate(lines):
        log.lines.append(SeenLine(direction, text, float(i), f"t{i}"))
    return log


@pytest.mark.parametrize(
    ("fields", "text", "ok"),
    [
        ({"contains": "order has SHIPPED"}, "Your order, has shipped!", True),
        ({"contains": "refund"}, "Your order has shipped.", False),
        ({"regex": r"(?i)^your\s+order"}, "YOUR order has shipped", True),
        ({"regex": r"refund"}, "Your order has shipped", False),
        ({"fuzzy": "thank you goodbye", "score_min": 80}, "Thank you, good bye.", True),
        ({"fuzzy": "thank you goodbye", "score_min": 80}, "See you tomorrow.", False),
        ({"text": "welcome to the order line", "wer_max": 0.2}, "Welcome to the order line!", True),
        ({"text": "welcome to the order line", "wer_max": 0.2}, "Welcome to a border mine.", False),
    ],
)
def test_matchers(fields: dict[str, Any], text: str, ok: bool) -> None:
    assert line_matches(expect(transcript="in", **fields), text) is ok


def test_wer_is_word_error_rate_on_normalised_text() -> None:
    assert wer("Hello there, world", "hello there world") == 0.0
    assert wer("a b c d", "a b x d") == 0.25


def test_transcript_pending_names_the_closest_line_and_fails_by_kind_once_the_call_settled() -> None:
    log = log_with(("in", "I want to cancel my subscription"), ("in", "Good morning"))
    exp = expect(transcript="in", fuzzy="cancel the subscription", score_min=95)
    v = transcript_verdict(exp, log, since=0.0, now=5.0, window_end=None)
    assert v.status == "pending"
    assert "I want to cancel my subscription" in v.message
    log.note_state("hangup", "remote", "normal")
    v = transcript_verdict(exp, log, since=0.0, now=10.0, window_end=None)
    assert (v.status, v.kind) == ("failed", "fuzzy_below")
    assert "closest of 2" in v.message


def test_transcript_counts_and_absent() -> None:
    log = log_with(("out", "Hello."), ("out", "Hello again."), ("in", "hello"))
    assert (
        transcript_verdict(
            expect(transcript="out", contains="hello", count_min=2), log, since=0, now=1, window_end=None
        ).status
        == "met"
    )
    too_many = transcript_verdict(
        expect(transcript="out", contains="hello", count_max=1), log, since=0, now=1, window_end=None
    )
    assert (too_many.status, too_many.kind) == ("failed", "unexpected_event")
    absent = expect(transcript="in", regex="(?i)refund", absent=True, **{"for": 2})
    assert transcript_verdict(absent, log, since=0, now=1, window_end=3).status == "pending"
    assert transcript_verdict(absent, log, since=0, now=3, window_end=3).status == "met"
    log.lines.append(SeenLine("in", "I want a REFUND", 2.5, "t9"))
    hit = transcript_verdict(absent, log, since=0, now=2.6, window_end=3)
    assert (hit.status, hit.kind) == ("failed", "unexpected_event")


def test_call_state_mismatch_and_hangup_details() -> None:
    log = CallLog(Clock())
    assert call_verdict(expect(call="progressing"), log).status == "pending"
    log.note_state("ringing", "", "")
    assert call_verdict(expect(call="progressing"), log).status == "pending"
    log.note_state("hangup", "remote", "busy")
    v = call_verdict(expect(call="progressing"), log)
    assert (v.kind, v.message) == ("state_mismatch", "the call is hangup (remote busy), expected progressing")
    v = call_verdict(expect(call="hangup", by="local", reason="normal"), log)
    assert v.kind == "state_mismatch"
    assert v.message == "the call hung up by remote instead of local, reason busy instead of normal"
    assert call_verdict(expect(call="hangup", by="remote", reason="busy"), log).status == "met"


def test_say_state_and_latency() -> None:
    log = CallLog(Clock())
    log.note_say("say-1", "Hello there", "sent", None)
    assert say_verdict(expect(say="last", state="heard"), log).status == "pending"
    log.note_say("say-1", "", "heard", 2500.0)
    assert say_verdict(expect(say="last", state="heard"), log).status == "met"
    v = say_verdict(expect(say=1, latency_max="1s"), log)
    assert (v.kind, v.message) == ("latency_exceeded", "say 'Hello there': say→heard took 2500 ms, budget 1000 ms")
    log.note_say("say-2", "Second", "failed", None, "503 REQUEST_TIMEOUT")
    v = say_verdict(expect(say="last"), log)
    assert v.kind == "request_failed"
    assert "503 REQUEST_TIMEOUT" in v.message


def test_request_outcome() -> None:
    log = CallLog(Clock())
    log.note_request("POST", "http://h/v1.0/calls?accesskey=***", 200, None)
    log.note_request("POST", "http://h/v1.0/speakings/x/say", 400, "speaking is not active")
    assert request_verdict(expect(request="POST /calls", status=200), log, since=0).status == "met"
    v = request_verdict(expect(request="last"), log, since=0)
    assert (v.kind, v.message) == ("request_failed", "POST /v1.0/speakings/x/say → 400 speaking is not active")
    v = request_verdict(expect(request="POST /calls", status=201), log, since=0)
    assert v.kind == "request_failed"
    assert "expected 201" in v.message
    assert request_verdict(expect(request="DELETE /speakings"), log, since=0).status == "pending"
