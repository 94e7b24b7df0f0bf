"""What a CallSession reports to whoever shows it (the Textual app, `watch`, tests, a future replay).

Plain frozen dataclasses, delivered synchronously to the listener callbacks in the event loop. A view
that cannot keep up coalesces them itself (they are idempotent: the latest of a kind wins, except
transcript changes which are applied in order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from tui.session.says import SayItem
from tui.session.transcript import TranscriptChange
from tui.voipbin.models import Call, Groupcall, Speaking, Transcribe

Phase = Literal["idle", "dialing", "live", "ended", "failed"]
SpeakingPhase = Literal["none", "waiting", "opening", "active", "stopping", "stopped", "failed", "closed"]
NoticeLevel = Literal["info", "warning", "error"]


@dataclass(frozen=True, slots=True)
class PhaseChanged:
    phase: Phase
    detail: str = ""


@dataclass(frozen=True, slots=True)
class CallUpdated:
    """The main call (the answered leg once known) or any leg changed."""

    call: Call | None
    legs: dict[str, Call]
    groupcall: Groupcall | None


@dataclass(frozen=True, slots=True)
class TranscribeUpdated:
    transcribe: Transcribe


@dataclass(frozen=True, slots=True)
class SpeakingUpdated:
    phase: SpeakingPhase
    speaking: Speaking | None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class TranscriptUpdated:
    changes: tuple[TranscriptChange, ...]


@dataclass(frozen=True, slots=True)
class SayUpdated:
    item: SayItem


@dataclass(frozen=True, slots=True)
class Notice:
    level: NoticeLevel
    text: str
    hint: str | None = None
    request_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class GapRecovered:
    started: float
    ended: float
    recovered: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    @property
    def seconds(self) -> float:
        return max(0.0, self.ended - self.started)


@dataclass(frozen=True, slots=True)
class CallSummary:
    call_id: str | None
    duration_s: float | None
    hangup_by: str
    hangup_reason: str
    lines_in: int
    lines_out: int
    says_sent: int
    says_heard: int
    says_failed: int
    say_heard_p50_ms: float | None
    say_heard_p95_ms: float | None
    record_path: str | None
    gaps: int
    # Why the record misses lines (a write failed), or None when it is whole or was not wanted.
    record_incomplete: str | None = None

    def headline(self) -> str:
        dur = "—" if self.duration_s is None else _fmt_duration(self.duration_s)
        by = {"local": "hung up here", "remote": "hung up by the other side"}.get(self.hangup_by, "hung up")
        return f"Call ended after {dur} ({by}, {self.hangup_reason or 'no reason given'})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "duration_s": self.duration_s,
            "hangup_by": self.hangup_by,
            "hangup_reason": self.hangup_reason,
            "lines_in": self.lines_in,
            "lines_out": self.lines_out,
            "says_sent": self.says_sent,
            "says_heard": self.says_heard,
            "says_failed": self.says_failed,
            "say_heard_p50_ms": self.say_heard_p50_ms,
            "say_heard_p95_ms": self.say_heard_p95_ms,
            "record_path": self.record_path,
            "gaps": self.gaps,
            "record_incomplete": self.record_incomplete,
        }


@dataclass(frozen=True, slots=True)
class CallEnded:
    summary: CallSummary


SessionUpdate = (
    PhaseChanged
    | CallUpdated
    | TranscribeUpdated
    | SpeakingUpdated
    | TranscriptUpdated
    | SayUpdated
    | Notice
    | GapRecovered
    | CallEnded
)


def _fmt_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
