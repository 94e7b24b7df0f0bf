"""The console's reading actions: find, copy out, transcript times, and the event log's filter and views.

Their whole effect is on the screen or the terminal's clipboard (``App.copy_to_clipboard``: OSC 52, so
it reaches the user's machine over SSH), so they have no session operation; ``ConsoleActions`` routes
them here by id. Every copied text goes through ``clipboard_text`` first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.actions.registry import ActionArg
from tui.ui.clipboard import clipboard_text
from tui.ui.clock import TIME_MODES
from tui.ui.widgets.event_log import LogFilter
from tui.ui.widgets.transcript_rows import plain_line

if TYPE_CHECKING:
    from datetime import datetime

    from tui.ui.app import VoipbinApp

_TIME_NAMES = {"wall": "wall clock", "wall-ms": "wall clock with milliseconds", "relative": "since the call began"}


class ReadingActions:
    def __init__(self, app: VoipbinApp) -> None:
        self.app = app

    def handler(self, keymap_id: str) -> object:
        return getattr(self, "_console_" + keymap_id, None)

    # -- copying ------------------------------------------------------------------------------------------

    def copy(self, text: str, what: str) -> None:
        """Hand ``text`` to the terminal's clipboard, made safe, and say what was copied."""
        safe = clipboard_text(text)
        self.app.copy_to_clipboard(safe)
        lines = safe.count("\n") + 1
        self.app.show_notice("info", f"copied {what}" + (f" ({lines} lines)" if lines > 1 else ""))

    def _console_copy_id(self, arg: ActionArg) -> None:
        session = self.app.session
        call = session.call if session is not None else None
        if call is None:
            self.app.show_notice("warning", "no call id to copy yet")
            return
        self.copy(call.id, f"the call id {call.id}")

    def _console_copy_line(self, arg: ActionArg) -> None:
        view = self.app.call_screen.transcript
        lines = view.selected_lines()
        if not lines:
            finals = [ln for ln in view.lines if ln.kind != "interim"]
            lines = finals[-1:]
        if not lines:
            self.app.show_notice("warning", "no transcript line to copy yet")
            return
        self.copy("\n".join(plain_line(ln, view.stamp(ln)) for ln in lines), "the line" if len(lines) == 1 else "lines")

    def _console_copy_transcript(self, arg: ActionArg) -> None:
        session = self.app.session
        if session is None or not len(session.book.lines):
            self.app.show_notice("warning", "no transcript to copy yet")
            return
        view = self.app.call_screen.transcript
        lines = [ln for ln in session.book.lines if ln.kind != "interim"]
        self.copy("\n".join(plain_line(ln, view.stamp(ln)) for ln in lines), "the transcript")

    # -- finding ------------------------------------------------------------------------------------------

    def _console_find(self, arg: ActionArg) -> None:
        screen = self.app.call_screen
        text = str(arg or "").strip()
        if not text:
            screen.open_find()
            return
        if not screen.find(text):
            self.app.show_notice("info", f"no line contains {text!r}")

    def _step(self, forward: bool) -> None:
        screen = self.app.call_screen
        if not screen.transcript.query_text:
            screen.open_find()
            return
        screen.find_step(forward)

    def _console_find_next(self, arg: ActionArg) -> None:
        self._step(True)

    def _console_find_prev(self, arg: ActionArg) -> None:
        self._step(False)

    # -- transcript times ---------------------------------------------------------------------------------

    def _console_toggle_time(self, arg: ActionArg) -> None:
        view = self.app.call_screen.transcript
        mode = TIME_MODES[(TIME_MODES.index(view.time_mode) + 1) % len(TIME_MODES)]
        view.set_time_mode(mode, self._call_start())
        self.app.show_notice("info", f"transcript times: {_TIME_NAMES[mode]}")

    def _call_start(self) -> datetime | None:
        session = self.app.session
        call = session.call if session is not None else None
        if call is not None and call.tm_create is not None:
            return call.tm_create
        lines = session.book.lines if session is not None else []
        return lines[0].at if lines else None

    # -- the event log ------------------------------------------------------------------------------------

    def _console_log_filter(self, arg: ActionArg) -> None:
        screen = self.app.call_screen
        log = screen.events
        log.set_filter(LogFilter.parse(str(arg or ""), hide_noise=log.filter.hide_noise))
        screen.show_log(True)
        self._say_filter()

    def _console_log_quiet(self, arg: ActionArg) -> None:
        screen = self.app.call_screen
        log = screen.events
        log.set_filter(LogFilter(log.filter.words, not log.filter.hide_noise))
        screen.show_log(True)
        self._say_filter()

    def _say_filter(self) -> None:
        log = self.app.call_screen.events
        f = log.filter
        if not f.active:
            self.app.show_notice("info", "event log: every entry")
            return
        what = [f"with {f.text!r}"] if f.words else []
        what += ["without interim speech and speaking polls"] if f.hide_noise else []
        self.app.show_notice("info", f"event log: {len(log.shown_entries)} entries " + ", ".join(what))

    def _console_log_open(self, arg: ActionArg) -> None:
        log = self.app.call_screen.events
        entry = log.cursor_entry or log.last_entry()
        if entry is None:
            self.app.show_notice("info", "the event log is empty")
            return
        from tui.ui.screens.entry import EntryScreen  # when first opened: the first frame does not need it

        self.app.push_screen(EntryScreen(log.detail_text(entry), on_copy=lambda t: self.copy(t, "the entry")))

    def _console_log_wrap(self, arg: ActionArg) -> None:
        log = self.app.call_screen.events
        log.set_wrap(not log.wrap)
        self.app.call_screen.show_log(True)

    def _console_log_full(self, arg: ActionArg) -> None:
        screen = self.app.call_screen
        screen.show_log_full(not screen.log_full)
