"""Session updates → view changes: what the console must redraw or say for each update. No Textual.

The call screen routes the widget changes to its widgets; the app performs the app-level ones (notices,
bindings). Keeping the decision here, apart from the drawing, makes it testable without a terminal and
keeps the app a composer rather than a switchboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.session import updates as u
    from tui.session.transcript import TranscriptChange


@dataclass(frozen=True, slots=True)
class TranscriptChanged:
    changes: Sequence[TranscriptChange]


@dataclass(frozen=True, slots=True)
class LineTouched:
    """A line changed state in place (a say moved from queued to heard)."""

    key: str


@dataclass(frozen=True, slots=True)
class StatusChanged:
    legs: bool = True


@dataclass(frozen=True, slots=True)
class ShowNotice:
    level: str
    text: str
    hint: str = ""
    request_id: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ShowSummary:
    summary: u.CallSummary


@dataclass(frozen=True, slots=True)
class GapNote:
    text: str


@dataclass(frozen=True, slots=True)
class BindingsChanged:
    """What the keys can do changed (the call went live, ended, …)."""


ViewChange = TranscriptChanged | LineTouched | StatusChanged | ShowNotice | ShowSummary | GapNote | BindingsChanged


def view_changes(update: u.SessionUpdate) -> list[ViewChange]:
    # Imported here: the console's first frame must not wait for the session package (pydantic).
    from tui.session import updates as u

    if isinstance(update, u.TranscriptUpdated):
        return [TranscriptChanged(update.changes)]
    if isinstance(update, u.SayUpdated):
        item = update.item
        out: list[ViewChange] = [LineTouched("s:" + item.id), StatusChanged(legs=False)]
        if item.state == "failed":
            out.append(
                ShowNotice(
                    "error", f"say failed: {item.error or 'unknown error'}", item.hint or "", item.request_id or ""
                )
            )
        return out
    if isinstance(update, u.Notice):
        return [ShowNotice(update.level, update.text, update.hint or "", update.request_id or "", update.reason or "")]
    if isinstance(update, u.CallEnded):
        return [ShowSummary(update.summary), StatusChanged(), BindingsChanged()]
    if isinstance(update, u.GapRecovered):
        got = update.recovered
        text = (
            f"event channel was down {update.seconds:.1f}s; recovered {got.get('transcripts', 0)} "
            f"transcript(s) and {got.get('status', 0)} status change(s)"
            + (f" (incomplete: {update.error})" if update.error else "")
        )
        return [
            GapNote(f"gap {update.seconds:.1f}s recovered"),
            ShowNotice("warning" if update.error else "info", text),
        ]
    if isinstance(update, u.PhaseChanged):
        return [BindingsChanged(), StatusChanged()]
    return [StatusChanged()]
