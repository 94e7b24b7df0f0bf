"""The main screen: header, status, transcript (+ side column on wide terminals), say box, footer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer

from tui.ui.clock import UiClock
from tui.ui.widgets.event_log import EventLog
from tui.ui.widgets.header import ConsoleHeader
from tui.ui.widgets.say_input import SayInput
from tui.ui.widgets.side_panel import LegsPanel, PhonePanel
from tui.ui.widgets.status_panel import NoticeLine, StatusPanel
from tui.ui.widgets.summary import SummaryPanel
from tui.ui.widgets.transcript_view import TranscriptView

STYLES = Path(__file__).resolve().parent.parent / "styles"

# From this width on, the legs/phone column sits beside the transcript.
WIDE_FROM = 110

PLACEHOLDER = "No call yet · F5 or /dial opens the dial form · F1 help · ctrl+p every command"


class CallScreen(Screen[None]):
    CSS_PATH = STYLES / "call.tcss"
    AUTO_FOCUS = "#say"

    def __init__(
        self,
        *,
        mode: str,
        clock: UiClock,
        on_line: Callable[[str], bool],
        redact: Callable[[str], str],
        transcript_max_lines: int = 5000,
        event_log_max_lines: int = 2000,
    ) -> None:
        super().__init__(id="call-screen")
        self.header = ConsoleHeader(mode, id="header")
        self.status = StatusPanel(clock=clock, id="status")
        self.notice = NoticeLine(id="notice")
        self.transcript = TranscriptView(max_lines=transcript_max_lines, clock=clock, id="transcript")
        self.transcript.placeholder = PLACEHOLDER
        self.legs = LegsPanel(id="legs")
        self.phone = PhonePanel(id="phone")
        self.events = EventLog(max_lines=event_log_max_lines, clock=clock, redact=redact, id="events")
        self.summary = SummaryPanel(id="summary")
        self.say_box = SayInput(on_line, id="say")
        self.sandbox = mode == "sandbox"

    def compose(self) -> ComposeResult:
        yield self.header
        yield self.status
        yield self.notice
        with Horizontal(id="body"):
            yield self.transcript
            with Vertical(id="side"):
                yield self.legs
                yield self.phone
                yield self.events
        yield self.summary
        yield self.say_box
        yield Footer(id="footer")

    def on_mount(self) -> None:
        self.set_sandbox(self.sandbox)
        self._fit(self.size.width)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int) -> None:
        wide = width >= WIDE_FROM
        self.set_class(wide, "-wide")
        self.set_class(not wide, "-narrow")
        footer = self.query_one(Footer)
        footer.compact = not wide

    def set_sandbox(self, sandbox: bool) -> None:
        self.sandbox = sandbox
        self.set_class(sandbox, "-sandbox")

    @property
    def log_shown(self) -> bool:
        return self.has_class("-log")

    def show_log(self, show: bool) -> None:
        self.set_class(show, "-log")
        if show:
            self.events.call_after_refresh(self.events.refresh)
