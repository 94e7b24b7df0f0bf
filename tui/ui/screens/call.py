"""The main screen: header, status, transcript (+ side column on wide terminals), say box, footer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen

from tui.actions.keys import how_to, key_label
from tui.ui.clock import UiClock
from tui.ui.view_changes import GapNote, LineTouched, ShowSummary, StatusChanged, TranscriptChanged, ViewChange
from tui.ui.widgets.event_log import EventLog
from tui.ui.widgets.find_bar import FindBar
from tui.ui.widgets.footer import FittedFooter
from tui.ui.widgets.header import ConsoleHeader
from tui.ui.widgets.say_input import SayInput
from tui.ui.widgets.side_panel import LegsPanel, PhonePanel
from tui.ui.widgets.status_panel import NoticeLine, StatusPanel
from tui.ui.widgets.summary import SummaryPanel
from tui.ui.widgets.transcript_view import TranscriptView

if TYPE_CHECKING:
    from tui.session.view import CallView
    from tui.voipbin.events import ConnectionState

HERE = Path(__file__).resolve().parent

# From this width on, the legs/phone column sits beside the transcript.
WIDE_FROM = 110


def placeholder(keys: Mapping[str, str]) -> str:
    """The empty transcript's hint, naming the keys in force."""
    dial, help_ = how_to("new_call", keys), key_label(keys.get("help", "f1"))
    return f"No call yet · {dial} opens the dial form · {help_} help · ctrl+p every command"


PLACEHOLDER = placeholder({})

# The empty transcript while there is a call: "No call yet" while the phone rings read as a fault.
CALL_PLACEHOLDERS = {
    "dialing": "Calling… the transcript starts when the call is answered",
    "live": "The call is up; lines appear here as they are transcribed",
    "ended": "The call ended without a transcribed line",
    "failed": "The call did not go through (the error is above)",
}


class CallScreen(Screen[None]):
    CSS_FILE = HERE / "call.tcss"
    APP_CSS = HERE.parent / "app.tcss"
    CSS_PATH = CSS_FILE
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE_FROM, "-wide")]  # noqa: RUF012 (Textual's ClassVar)
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
        # The mode's class from the start: added on mount it restyled the whole screen before the first frame.
        super().__init__(id="call-screen", classes="-sandbox" if mode == "sandbox" else None)
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
        self.find_bar = FindBar(self._find_typed, self.find_step, self.close_find, id="find")
        self.sandbox = mode == "sandbox"
        self.keys: dict[str, str] = {}

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
        yield self.find_bar
        yield self.say_box
        yield FittedFooter(id="footer", compact=self.app.size.width < WIDE_FROM)

    def on_mount(self) -> None:
        self._fit_footer(self.size.width)

    def on_resize(self, event: events.Resize) -> None:
        # The -narrow/-wide classes come from HORIZONTAL_BREAKPOINTS; the footer's compact mode is a
        # property of the widget, not a style, so it follows here.
        self._fit_footer(event.size.width)

    def _fit_footer(self, width: int) -> None:
        footer = self.query_one(FittedFooter)
        footer.compact = width < WIDE_FROM
        # Which labels fit whole depends on the width: lay the keys out again (not before the footer has
        # laid them out once, nor for the width they were laid out for).
        if footer.is_mounted and footer.fitted_width not in (None, width):
            footer.refresh(recompose=True)

    def set_headless_phone(self, on: bool) -> None:
        """The headless phone (`[phone]`) shows its panel on the real service too."""
        self.set_class(on, "-phone")

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

    @property
    def log_full(self) -> bool:
        return self.has_class("-log-full")

    def show_log_full(self, full: bool) -> None:
        """The event log fills the body (the transcript steps aside), or goes back to its place."""
        self.set_class(full, "-log-full")
        if full:
            self.show_log(True)
            self.events.focus()

    # -- finding ------------------------------------------------------------------------------------------

    @property
    def find_shown(self) -> bool:
        return self.has_class("-find")

    def open_find(self) -> None:
        self.set_class(True, "-find")
        self.find_bar.value = self.transcript.query_text
        self.find_bar.focus()

    def close_find(self) -> None:
        self.set_class(False, "-find")
        self.say_box.focus()

    def _find_typed(self, text: str) -> None:
        self.transcript.find(text, forward=False)

    def find(self, text: str) -> bool:
        """Search for ``text`` from the newest line back; True when a line matched."""
        return self.transcript.find(text, forward=False) is not None

    def find_step(self, forward: bool) -> None:
        self.transcript.find(forward=forward)

    # -- what the app routes here -------------------------------------------------------------------------

    def configure(self, transcript_max_lines: int, event_log_max_lines: int, show_event_log: bool) -> None:
        self.transcript.max_lines = transcript_max_lines
        self.events.set_max_lines(event_log_max_lines)
        self.show_log(show_event_log)

    def set_keys(self, keys: Mapping[str, str]) -> None:
        """Hints name the keys in force: a remapped keymap changes them."""
        self.keys = dict(keys)
        self._show_placeholder()
        if self.is_mounted:
            self.phone.set_keys(keys)

    def _show_placeholder(self) -> None:
        session = self.status.session
        text = CALL_PLACEHOLDERS.get(session.phase, "") if session is not None else ""
        text = text or placeholder(self.keys)
        if text != self.transcript.placeholder:
            self.transcript.placeholder = text
            self.transcript.refresh()

    def show_session(self, session: CallView) -> None:
        self.notice.clear()
        self.summary.clear()
        # The last call's gap note is not this call's.
        self.header.set_gap("")
        self.transcript.source = lambda: session.book.lines
        self.transcript.reset(session.book.lines)
        self.status.show_session(session)
        self.legs.show_session(session)
        self._show_placeholder()

    def show_connection(self, state: ConnectionState, *, backfills: bool) -> None:
        self.header.set_channel(state.state, state.attempt, state.error or "", unauthorized=state.unauthorized)
        self.events.write("connection", "event channel " + state.summary(), state.at)
        if state.state == "reconnected" and state.gap_started is not None and state.gap_ended is not None:
            seconds = state.gap_ended - state.gap_started
            self.header.set_gap(f"gap {seconds:.1f}s, backfilling" if backfills else f"gap {seconds:.1f}s")

    def apply(self, change: ViewChange) -> None:
        """Route one view change to the widget that shows it."""
        if isinstance(change, TranscriptChanged):
            self.transcript.apply(change.changes)
        elif isinstance(change, LineTouched):
            self.transcript.touch(change.key)
        elif isinstance(change, StatusChanged):
            self.status.refresh()
            self._show_placeholder()
            if change.legs:
                self.legs.refresh(layout=True)
        elif isinstance(change, ShowSummary):
            self.summary.show_summary(change.summary, {k: key_label(v) for k, v in self.keys.items()})
        elif isinstance(change, GapNote):
            self.header.set_gap(change.text)

    def scroll_transcript(self, direction: int) -> None:
        view = self.transcript
        if direction < 0:
            view.scroll_page_up(animate=False)
        elif view.scroll_y >= view.max_scroll_y - view.scrollable_content_region.height:
            view.follow()
        else:
            view.scroll_page_down(animate=False)
