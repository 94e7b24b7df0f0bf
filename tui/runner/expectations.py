"""Evaluating one ``expect`` against the call log: met, not yet (with the closest candidate), or failed.

Rules that make the failure kinds stable:
- a deadline that passes is ``timeout``, and the message names the closest candidate;
- once the call has ended and settled, waiting longer cannot help: a transcript expectation that still
  does not hold fails with its matcher's kind (``text_mismatch``, ``regex_no_match``, ``fuzzy_below``,
  ``wer_exceeded``), naming the best line;
- a state that has moved past the expected one is ``state_mismatch`` at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from tui.runner.failures import FailureKind
from tui.runner.observe import CallLog, SeenLine
from tui.runner.schema import Expect
from tui.session.says import normalise

# After the call's hangup, transcripts still trickle in while the transcribe stops.
SETTLE_AFTER_HANGUP_S = 1.5
_STATUS_RANK = {"dialing": 0, "ringing": 1, "progressing": 2, "terminating": 3, "canceling": 3, "hangup": 4}


@dataclass(frozen=True, slots=True)
class Verdict:
    status: str  # "met" | "pending" | "failed"
    kind: FailureKind | None = None
    message: str = ""
    # When met: when the event that made it hold arrived (None when the clock decided, e.g. ``absent``).
    at: float | None = None

    @property
    def done(self) -> bool:
        return self.status != "pending"


MET = Verdict("met")


def met(at: float | None) -> Verdict:
    return Verdict("met", at=at)


def pending(message: str) -> Verdict:
    return Verdict("pending", message=message)


def failed(kind: FailureKind, message: str) -> Verdict:
    return Verdict("failed", kind, message)


def clip(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# -- transcripts ------------------------------------------------------------------------------------------


def matcher_kind(exp: Expect) -> FailureKind:
    if exp.regex is not None:
        return "regex_no_match"
    if exp.fuzzy is not None:
        return "fuzzy_below"
    if exp.text is not None:
        return "wer_exceeded"
    return "text_mismatch"


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    ref, hyp = normalise(reference), normalise(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return float(jiwer.wer(ref, hyp or "<empty>"))


def line_matches(exp: Expect, text: str) -> bool:
    if exp.contains is not None:
        return normalise(exp.contains) in normalise(text)
    if exp.regex is not None:
        return re.search(exp.regex, text) is not None
    if exp.fuzzy is not None:
        return fuzz.partial_ratio(normalise(exp.fuzzy), normalise(text)) >= exp.score_min
    if exp.text is not None:
        return wer(exp.text, text) <= exp.wer_max
    return True


def _needle(exp: Expect) -> str:
    return exp.contains or exp.fuzzy or exp.text or exp.regex or ""


def describe(exp: Expect) -> str:
    if exp.contains is not None:
        return f"contains {exp.contains!r}"
    if exp.regex is not None:
        return f"matches /{exp.regex}/"
    if exp.fuzzy is not None:
        return f"resembles {exp.fuzzy!r} (score ≥ {exp.score_min:g})"
    if exp.text is not None:
        return f"reads {exp.text!r} (WER ≤ {exp.wer_max:g})"
    return "any text"


def closest(exp: Expect, lines: list[SeenLine]) -> str:
    if not lines:
        return f"no {exp.transcript} transcript arrived"
    needle = normalise(_needle(exp))
    if exp.text is not None:
        best = min(lines, key=lambda ln: wer(exp.text or "", ln.text))
        return f"closest: {clip(best.text)!r} (WER {wer(exp.text, best.text):.2f})"
    best = max(lines, key=lambda ln: fuzz.partial_ratio(needle, normalise(ln.text)))
    score = fuzz.partial_ratio(needle, normalise(best.text))
    return f"closest of {len(lines)}: {clip(best.text)!r} (score {score:.0f})"


def transcript_verdict(exp: Expect, log: CallLog, *, since: float, now: float, window_end: float | None) -> Verdict:
    lines = [ln for ln in log.lines if ln.direction == exp.transcript and ln.at >= since]
    matching = [ln for ln in lines if line_matches(exp, ln.text)]
    what = f"{exp.transcript} transcript {describe(exp)}"
    if exp.absent:
        if matching:
            return failed("unexpected_event", f"an {what} arrived but must not: {clip(matching[0].text)!r}")
        if window_end is not None and now >= window_end:
            return MET
        return pending(f"no {what} so far")
    if exp.count_max is not None and len(matching) > exp.count_max:
        return failed(
            "unexpected_event", f"{len(matching)} lines {describe(exp)} arrived, at most {exp.count_max} allowed"
        )
    need = exp.count_min if exp.count_min is not None else 1
    if len(matching) >= need:
        line = matching[need - 1] if need > 0 else None
        return met(None if line is None else line.arrived if line.arrived is not None else line.at)
    near = closest(exp, lines)
    got = f" ({len(matching)} of {need})" if need > 1 else ""
    if log.settled(now, SETTLE_AFTER_HANGUP_S):
        return failed(matcher_kind(exp), f"the call ended without an {what}{got}; {near}")
    return pending(f"no {what}{got}; {near}")


# -- call, say, connection, request -------------------------------------------------------------------------


def status_rank(status: str) -> int:
    return _STATUS_RANK.get(status, -1)


def call_verdict(exp: Expect, log: CallLog) -> Verdict:
    target = exp.call or ""
    current = log.call_status
    if current is None:
        return pending(f"the call is not known yet (expected {target})")
    seen = next((s for s in log.states if s.status == target), None)
    if seen is not None:
        if target == "hangup":
            wrong = []
            if exp.by is not None and seen.by != exp.by:
                wrong.append(f"by {seen.by or '(none)'} instead of {exp.by}")
            if exp.reason is not None and seen.reason != exp.reason:
                wrong.append(f"reason {seen.reason or '(none)'} instead of {exp.reason}")
            if wrong:
                return failed("state_mismatch", "the call hung up " + ", ".join(wrong))
        return met(seen.arrived if seen.arrived is not None else seen.at)
    if _STATUS_RANK.get(current.status, -1) > _STATUS_RANK.get(target, -1):
        end = f" ({current.by} {current.reason})" if current.status == "hangup" else ""
        return failed("state_mismatch", f"the call is {current.status}{end}, expected {target}")
    return pending(f"the call is {current.status}, expected {target}")


def say_verdict(exp: Expect, log: CallLog) -> Verdict:
    says = log.says_in_order()
    if not says:
        return pending("no line has been said yet")
    which = exp.say
    if which == "last":
        item = says[-1]
    elif which == "first":
        item = says[0]
    else:
        index = int(which or 1)
        if index > len(says):
            return pending(f"only {len(says)} line(s) said, expected line {index}")
        item = says[index - 1]
    label = f"say {clip(item.text, 60)!r}"
    if exp.state is not None and item.state != exp.state:
        if item.state in ("failed", "flushed") or (exp.state in ("queued", "sending") and item.state != exp.state):
            detail = f": {item.error}" if item.error else ""
            kind: FailureKind = "request_failed" if item.state == "failed" else "state_mismatch"
            return failed(kind, f"{label} is {item.state}{detail}, expected {exp.state}")
        return pending(f"{label} is {item.state}, expected {exp.state}")
    if exp.latency_max is not None:
        if item.latency_ms is None:
            return pending(f"{label} has no say→heard latency yet (state {item.state})")
        if item.latency_ms > exp.latency_max * 1000:
            return failed(
                "latency_exceeded",
                f"{label}: say→heard took {item.latency_ms:.0f} ms, budget {exp.latency_max * 1000:.0f} ms",
            )
    return met(item.changed if item.changed is not None else item.at)


def connection_verdict(exp: Expect, log: CallLog, *, since: float) -> Verdict:
    target = exp.connection or ""
    recent = [c for c in log.connections if c.at >= since]
    hit = next((c for c in recent if c.state == target), None)
    if hit is not None:
        return met(hit.at)
    last = log.connections[-1] if log.connections else None
    if last is not None and last.state == "closed" and target != "closed":
        return failed("connection_unrecovered", f"the event channel closed: {last.error or 'no reason'}")
    return pending(f"the event channel is {last.state if last else 'unknown'}, expected {target}")


def connection_timeout_kind(log: CallLog) -> FailureKind:
    last = log.connections[-1] if log.connections else None
    return "connection_unrecovered" if last is not None and last.state == "reconnecting" else "timeout"


def request_verdict(exp: Expect, log: CallLog, *, since: float) -> Verdict:
    wanted = (exp.request or "last").strip()
    recent = [r for r in log.requests if r.at >= since]
    if wanted != "last":
        method, _, part = wanted.partition(" ")
        if not part:
            method, part = "", method
        recent = [r for r in recent if (not method or r.method == method.upper()) and part in r.path]
    if not recent:
        return pending(f"no request {wanted} yet")
    last = recent[-1]
    outcome = f"{last.method} {last.path} → {last.status if last.status is not None else 'no response'}"
    if last.reason:
        outcome += f" {last.reason}"
    if last.error and last.status is None:
        outcome += f" ({last.error})"
    if exp.status is not None and last.status != exp.status:
        return failed("request_failed", f"{outcome}, expected {exp.status}")
    if exp.reason is not None and (last.reason or "") != exp.reason:
        return failed("request_failed", f"{outcome}, expected reason {exp.reason}")
    if exp.status is None and exp.reason is None and (last.status is None or last.status >= 400):
        return failed("request_failed", outcome)
    return met(last.at)
