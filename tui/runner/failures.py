"""Why a scenario failed: one kind from a fixed list, so failures can be grouped across runs."""

from __future__ import annotations

from typing import Literal, get_args

FailureKind = Literal[
    "timeout",
    "state_mismatch",
    "text_mismatch",
    "regex_no_match",
    "fuzzy_below",
    "wer_exceeded",
    "latency_exceeded",
    "request_failed",
    "connection_unrecovered",
    "unexpected_event",
    "skipped",
    "error",
]
FAILURE_KINDS: tuple[str, ...] = get_args(FailureKind)


class ScenarioFailure(Exception):
    """A step (``step`` is its 0-based index; -1 for the call set-up, ``len(steps)`` for the checks)."""

    def __init__(self, kind: FailureKind, message: str, step: int = -1, verb: str = "") -> None:
        super().__init__(message)
        self.kind: FailureKind = kind
        self.message = message
        self.step = step
        self.verb = verb

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "step": self.step, "verb": self.verb, "message": self.message}
