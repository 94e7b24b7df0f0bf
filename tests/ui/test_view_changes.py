"""Session updates → view changes, without a terminal (tui.ui.view_changes is Textual-free)."""

from __future__ import annotations

from tui.session.says import SayItem
from tui.session.updates import GapRecovered, Notice, PhaseChanged, SayUpdated, SpeakingUpdated, TranscriptUpdated
from tui.ui.view_changes import (
    BindingsChanged,
    GapNote,
    LineTouched,
    ShowNotice,
    StatusChanged,
    TranscriptChanged,
    view_changes,
)


def test_a_failed_say_touches_its_line_and_says_why() -> None:
    item = SayItem(id="s1", text="hi", state="failed", error="409 stopped", hint="open a stream", request_id="r1")
    assert view_changes(SayUpdated(item)) == [
        LineTouched("s:s1"),
        StatusChanged(legs=False),
        ShowNotice("error", "say failed: 409 stopped", "open a stream", "r1"),
    ]
    heard = SayItem(id="s2", text="hi", state="heard")
    assert view_changes(SayUpdated(heard)) == [LineTouched("s:s2"), StatusChanged(legs=False)]


def test_notices_phases_gaps_and_the_rest() -> None:
    assert view_changes(Notice("warning", "w", hint="h")) == [ShowNotice("warning", "w", "h")]
    assert view_changes(PhaseChanged("live")) == [BindingsChanged(), StatusChanged()]
    assert view_changes(TranscriptUpdated(())) == [TranscriptChanged(())]
    assert view_changes(SpeakingUpdated("active", None)) == [StatusChanged()]
    gap = view_changes(GapRecovered(10.0, 12.5, {"transcripts": 2, "status": 1}))
    assert gap[0] == GapNote("gap 2.5s recovered")
    assert gap[1] == ShowNotice("info", "event channel was down 2.5s; recovered 2 transcript(s) and 1 status change(s)")
    incomplete = view_changes(GapRecovered(10.0, 11.0, {}, error="timeout"))
    assert isinstance(incomplete[1], ShowNotice)
    assert incomplete[1].level == "warning"
    assert "(incomplete: timeout)" in incomplete[1].text
