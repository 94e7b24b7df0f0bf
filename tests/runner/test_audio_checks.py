"""The `audio` check over the phone's JSON lines: each limit fails when broken, and `heard` without speech
to text is skipped with its reason. (The live path runs in examples/scenarios/phone-audio.scenario.yaml.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tui.runner.audio import AudioEvidence, audio_result, say_audible_latencies
from tui.runner.schema import AudioCheck, Scenario
from tui.runner.target import TargetError, TargetOptions, open_target

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def lines(*heard: tuple[float, float], said: bool = True, text: str | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"kind": "answered", "time": T0.isoformat()}]
    for start, duration in heard:
        line: dict[str, Any] = {"kind": "heard", "start": start, "end": start + duration, "duration": duration}
        if text is not None:
            line["text"] = text
        out.append(line)
    if said:
        out.append({"kind": "said", "text": "hi", "start": 5.0, "duration": 1.0})
    return out


def at(seconds: float) -> float:
    return (T0 + timedelta(seconds=seconds)).timestamp()


def check(**values: Any) -> AudioCheck:
    return AudioCheck.model_validate(values)


def test_present_both_needs_audio_each_way() -> None:
    good = AudioEvidence(phone_lines=lines((0.4, 2.0)), in_transcripts=1)
    assert audio_result(check(present="both"), good).status == "passed"
    no_out = audio_result(check(present="out"), AudioEvidence(phone_lines=lines(), in_transcripts=1))
    assert no_out.status == "failed"
    assert "(out)" in no_out.message
    no_in = audio_result(check(present="in"), AudioEvidence(phone_lines=lines((0.4, 2.0)), in_transcripts=0))
    assert no_in.status == "failed"
    assert "transcribed nothing" in no_in.message
    silent = audio_result(check(present="in"), AudioEvidence(phone_lines=lines((0.4, 2.0), said=False)))
    assert "said nothing" in silent.message


def test_first_audio_after_answer_limit() -> None:
    evidence = AudioEvidence(phone_lines=lines((1.5, 2.0)))
    assert audio_result(check(first_audio_after_answer_max="2s"), evidence).status == "passed"
    late = audio_result(check(first_audio_after_answer_max=1.0), evidence)
    assert (late.status, late.kind) == ("failed", "latency_exceeded")
    assert "1.50s after answer" in late.message


def test_say_audible_latency_is_post_to_the_first_energy_after_it() -> None:
    # Greeting at 0.4 s; a say POSTed at 6.0 s is heard from 6.7 s; a second at 10.0 s is never heard.
    evidence = AudioEvidence(phone_lines=lines((0.4, 2.0), (6.7, 1.2)), says=[("one", at(6.0)), ("two", at(10.0))])
    latencies = say_audible_latencies(evidence)
    assert latencies[0] == pytest.approx(0.7, abs=1e-3)
    assert latencies[1] is None
    result = audio_result(check(say_audible_latency_max=2.0), evidence)
    assert result.status == "failed"
    assert "'two' never became audible" in result.message
    one = AudioEvidence(phone_lines=evidence.phone_lines, says=[("one", at(6.0))])
    assert audio_result(check(say_audible_latency_max=1.0), one).status == "passed"
    assert audio_result(check(say_audible_latency_max=0.5), one).status == "failed"


def test_heard_is_skipped_without_stt_and_scored_with_it() -> None:
    plain = audio_result(check(heard={"text": "hello there"}), AudioEvidence(phone_lines=lines((0.4, 2.0))))
    assert plain.status == "skipped"
    assert "speech to text" in plain.message
    with_text = AudioEvidence(phone_lines=lines((0.4, 2.0), text="hello there"), stt=True)
    assert audio_result(check(heard={"text": "hello there"}), with_text).status == "passed"
    wrong = AudioEvidence(phone_lines=lines((0.4, 2.0), text="goodbye now"), stt=True)
    result = audio_result(check(heard={"text": "hello there", "wer_max": 0.2}), wrong)
    assert (result.status, result.kind) == ("failed", "wer_exceeded")


def test_no_phone_means_skipped_and_no_answer_means_failed() -> None:
    assert audio_result(check(present="out"), AudioEvidence()).status == "skipped"
    never = audio_result(check(present="out"), AudioEvidence(phone_lines=[{"kind": "registered"}]))
    assert (never.status, never.kind) == ("failed", "state_mismatch")


async def test_a_phone_scenario_on_the_sandbox_needs_its_sip_side() -> None:
    scenario = Scenario.model_validate({"name": "p", "phone": {"extension": "quickstart-phone"}})
    with pytest.raises(TargetError, match="sip: true"):
        await open_target(scenario, TargetOptions())
    with pytest.raises(ValueError, match="extension"):
        Scenario.model_validate({"name": "p", "phone": {"domain": "d"}})
