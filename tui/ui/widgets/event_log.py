"""The raw event log: every WebSocket frame, every HTTP request and every connection change.

Appending is O(1) and drawing happens only for visible rows, so the log can stay attached at hundreds
of frames per second even while hidden. Text is redacted when it is drawn (only visible rows pay for
it), with the secrets the runtime knows at that moment.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from typing import ClassVar, Literal

from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.strip import Strip

from tui.ui.clock import UiClock
from tui.ui.widgets.line_view import LineView
from tui.voipbin.safetext import safe_line

log = logging.getLogger("tui.ui")

# What one entry shows (a raw frame can be megabytes); the head kept is a little longer so that a secret
# crossing the cut is still whole when redaction runs, before the final cut.
ENTRY_LIMIT = 4000
_KEPT = ENTRY_LIMIT + 512

EntryKind = Literal["frame", "duplicate", "unrecognised", "request", "request-error", "connection", "note"]

_MARKS: dict[str, str] = {
    "frame": "⇣",
    "duplicate": "⇣",
    "unrecognised": "?",
    "request": "⇡",
    "request-error": "⇡",
    "connection": "≈",
    "note": "·",
}


class _LogEntry:
    __slots__ = ("at", "kind", "shown", "text")

    def __init__(self, at: float, kind: EntryKind, text: str) -> None:
        self.at = at
        self.kind = kind
        self.text = text
        self.shown: str | None = None


class EventLog(LineView, can_focus=True):
    STYLE_PREFIX: ClassVar[str] = "event-log--"
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "event-log--time",
        "event-log--frame",
        "event-log--duplicate",
        "event-log--unrecognised",
        "event-log--request",
        "event-log--request-error",
        "event-log--connection",
        "event-log--note",
    }

    DEFAULT_CSS = """
    EventLog {
        overflow-x: auto;
        overflow-y: scroll;
        scrollbar-size-vertical: 1;
        scrollbar-size-horizontal: 1;
    }
    """

    def __init__(
        self,
        *,
        max_lines: int = 2000,
        clock: UiClock | None = None,
        redact: Callable[[str], str] | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.clock = clock or UiClock()
        self.redact: Callable[[str], str] = redact or (lambda text: text)
        self._entries: deque[_LogEntry] = deque(maxlen=max(1, max_lines))
        self._widest = 0
        self._follow = True
        self.written = 0
        self.counts: dict[str, int] = {}

    @property
    def entries(self) -> list[tuple[str, str]]:
        """(kind, redacted text) of every kept entry, oldest first."""
        return [(e.kind, self._shown(e)) for e in self._entries]

    def set_max_lines(self, max_lines: int) -> None:
        self._entries = deque(self._entries, maxlen=max(1, max_lines))
        self._schedule()

    def write(self, kind: EntryKind, text: str, at: float) -> None:
        more = len(text) - _KEPT
        flat = text[:_KEPT].replace("\r", " ").replace("\n", " ")
        if more > 0:
            flat += f" … ({more} more chars)"
        self._entries.append(_LogEntry(at, kind, flat))
        self.written += 1
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if self.display:
            self._schedule()

    def write_many(self, items: Iterable[tuple[EntryKind, str, float]]) -> None:
        for kind, text, at in items:
            self.write(kind, text, at)

    def clear(self) -> None:
        self._entries.clear()
        self._widest = 0
        self._schedule()

    # -- layout -------------------------------------------------------------------------------------------

    def _flush(self) -> None:
        # Widths are estimated from the raw text: exact enough for a scrollbar, and free.
        for entry in list(self._entries)[-64:]:
            self._widest = max(self._widest, len(entry.text) + 16)
        self._grow(Size(max(self._widest, self.scrollable_content_region.width), len(self._entries)))
        if self._follow:
            self.scroll_to(
                y=max(0, len(self._entries) - self.scrollable_content_region.height), animate=False, force=True
            )
        self.refresh()

    def on_show(self, event: events.Show) -> None:
        self._follow = True
        self._schedule()

    def on_resize(self, event: events.Resize) -> None:
        self._schedule()

    def notify_style_update(self) -> None:
        super().notify_style_update()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._follow = new_value >= self.max_scroll_y - 0.5

    # -- drawing ------------------------------------------------------------------------------------------

    def _shown(self, entry: _LogEntry) -> str:
        if entry.shown is None:
            # Redact first (a cut must not split a secret), then escape and cut to what a row can show.
            entry.shown = safe_line(self.redact(entry.text), ENTRY_LIMIT)
        return entry.shown

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        row = scroll_y + y
        if row >= len(self._entries):
            return Strip.blank(width, self.rich_style)
        entry = self._entries[row]
        try:
            text = self._row_text(entry)
        except Exception:  # one bad entry must not take the console down
            log.exception("cannot draw an event log entry")
            text = Text("(entry could not be drawn)")
        strip = Strip(list(text.render(self.app.console)))
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style).apply_style(self.rich_style)

    def _row_text(self, entry: _LogEntry) -> Text:
        return Text.assemble(
            (self.clock.clock_time_ms(entry.at), self._style("time")),
            " ",
            (f"{_MARKS.get(entry.kind, ' ')} {self._shown(entry)}", self._style(entry.kind)),
            no_wrap=True,
            end="",
        )
