"""The `audio` check: what the headless phone measured (its JSON lines) against a scenario's limits.

Directions are VoIPBIN's: `out` is audio VoIPBIN sent, which the phone heard as speech segments; `in` is
audio the phone sent (its `said` lines) that VoIPBIN transcribed (`in` transcript lines). Times are the
phone's: a segment's `start` is seconds after the phone answered, anchored to the wall clock by its
`answered` line, so a say's POST time (``SayItem.sent_at``) can be compared with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from tui.runner.expectations import wer
from tui.runner.schema import AudioCheck

Status = Literal["passed", "failed", "skipped"]


@dataclass(slots=True)
class AudioEvidence:
    phone_lines: Sequence[dict[str, Any]] = ()
    says: Sequence[tuple[str, float | None]] = ()  # (text, POST /say wall time)
    in_transcripts: int = 0
    stt: bool = False  # the phone was given a speech-to-text model
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AudioResult:
    status: Status
    message: str = ""
    kind: str = ""
    figures: dict[str, float] = field(default_factory=dict)


def _wall(stamp: object) -> float | None:
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return None


def _segments(lines: Sequence[dict[str, Any]]) -> tuple[float | None, list[dict[str, Any]]]:
    """The last call's answer (wall time) and its heard segments."""
    answered: float | None = None
    heard: list[dict[str, Any]] = []
    for line in lines:
        if line.get("kind") == "answered":
            answered, heard = _wall(line.get("time")), []
        elif line.get("kind") == "heard" and isinstance(line.get("start"), int | float):
            heard.append(line)
    return answered, heard


def say_audible_latencies(evidence: AudioEvidence) -> list[float | None]:
    """Per say: seconds from its POST to the first speech energy at the phone starting after it."""
    answered, heard = _segments(evidence.phone_lines)
    out: list[float | None] = []
    for _, sent in evidence.says:
        if sent is None or answered is None:
            out.append(None)
            continue
        starts = [answered + float(h["start"]) for h in heard if answered + float(h["start"]) >= sent]
        out.append(min(starts) - sent if starts else None)
    return out


def audio_result(check: AudioCheck, evidence: AudioEvidence) -> AudioResult:
    lines = evidence.phone_lines
    if not lines:
        return AudioResult("skipped", "audio checks need the headless phone: give the scenario a `phone:` table")
    answered, heard = _segments(lines)
    if answered is None:
        return AudioResult("failed", "the phone never answered a call", "state_mismatch")
    figures: dict[str, float] = {"heard_segments": float(len(heard))}
    said = [ln for ln in lines if ln.get("kind") == "said"]
    if check.present is not None:
        if check.present in ("out", "both") and not heard:
            return AudioResult("failed", "no audio from VoIPBIN reached the phone (out)", "text_mismatch", figures)
        if check.present in ("in", "both"):
            if not said:
                return AudioResult("failed", "the phone said nothing, so no audio went in", "text_mismatch", figures)
            if evidence.in_transcripts == 0:
                return AudioResult(
                    "failed", "the phone spoke but VoIPBIN transcribed nothing from it (in)", "text_mismatch", figures
                )
    if check.first_audio_after_answer_max is not None:
        if not heard:
            return AudioResult("failed", "no audio reached the phone after it answered", "latency_exceeded", figures)
        first = float(heard[0]["start"])
        figures["first_audio_after_answer_s"] = first
        if first > check.first_audio_after_answer_max:
            limit = check.first_audio_after_answer_max
            return AudioResult(
                "failed", f"first audio {first:.2f}s after answer, budget {limit:g}s", "latency_exceeded", figures
            )
    if check.say_audible_latency_max is not None:
        latencies = say_audible_latencies(evidence)
        if not latencies:
            return AudioResult("failed", "no say was sent, so there is no say→audible latency", "latency_exceeded")
        for (text, _), latency in zip(evidence.says, latencies, strict=True):
            if latency is None:
                return AudioResult("failed", f"say {text[:40]!r} never became audible at the phone", "latency_exceeded")
            figures["say_audible_latency_max_s"] = max(figures.get("say_audible_latency_max_s", 0.0), latency)
            if latency > check.say_audible_latency_max:
                limit = check.say_audible_latency_max
                return AudioResult(
                    "failed",
                    f"say {text[:40]!r} audible {latency:.2f}s after POST /say, budget {limit:g}s",
                    "latency_exceeded",
                    figures,
                )
    if check.heard is not None:
        texts = [str(h["text"]) for h in heard if isinstance(h.get("text"), str)]
        if not evidence.stt or not texts:
            why = "no stt_model given to the phone" if not evidence.stt else "the phone's speech to text gave no text"
            return AudioResult("skipped", f"heard needs speech to text (the phone-stt extra and a model): {why}")
        error = wer(check.heard.text, " ".join(texts))
        figures["heard_wer"] = error
        if error > check.heard.wer_max:
            return AudioResult(
                "failed", f"the phone heard {' '.join(texts)[:80]!r}: WER {error:.2f} > {check.heard.wer_max:g}",
                "wer_exceeded", figures,
            )  # fmt: skip
    return AudioResult("passed", "", "", figures)
