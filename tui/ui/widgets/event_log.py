"""The raw event log: every WebSocket frame, every HTTP request and every connection change.

Appending is O(1) and drawing happens only for visible rows, so the log can stay attached at hundreds
of frames per second even while hidden. Text is redacted when it is drawn (only visible rows pay for
it), with the secrets the runtime knows at that moment.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar, Literal

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.selection import Selection
from textual.strip import Strip

from tui.ui.clipboard import clipboard_text
from tui.ui.clock import UiClock
from tui.ui.keymap import widget_binding
from tui.ui.widgets.line_view import LineView
from tui.ui.widgets.transcript_cursor import select_cells
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
    __slots__ = ("at", "detail", "kind", "shown", "text")

    def __init__(self, at: float, kind: EntryKind, text: str, detail: object = None) -> None:
        self.at = at
        self.kind = kind
        self.text = text
        self.shown: str | None = None
        # The whole frame or request behind the one-line text, formatted only when someone opens it.
        self.detail = detail


def is_noise(kind: str, text: str) -> bool:
    """Interim speech frames and the speaking stream's status polls: most of a live call's log."""
    if kind in ("frame", "duplicate"):
        return "speech_interim" in text
    if kind == "request":
        return text.startswith("GET ") and "/speakings/" in text
    return False


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Which entries the log shows: words that must all occur (``kind:NAME`` for a kind), ``-word`` that
    must not, and whether the noise (``is_noise``) is hidden."""

    words: tuple[str, ...] = ()
    hide_noise: bool = False

    @classmethod
    def parse(cls, text: str, *, hide_noise: bool = False) -> LogFilter:
        return cls(tuple(w.casefold() for w in text.split()), hide_noise)

    @property
    def active(self) -> bool:
        return bool(self.words) or self.hide_noise

    @property
    def text(self) -> str:
        return " ".join(self.words)

    def accepts(self, kind: str, text: str) -> bool:
        if self.hide_noise and is_noise(kind, text):
            return False
        folded = text.casefold()
        for word in self.words:
            negate = word.startswith("-") and len(word) > 1
            word = word[1:] if negate else word
            hit = kind.startswith(word[5:]) if word.startswith("kind:") else word in folded or word == kind
            if hit == negate:
                return False
        return True


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
        "event-log--cursor",
    }
    # Keys of the focused log: pick an entry (↑/↓), open it, wrap, full screen, hide the noise.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Entry up", show=False),
        Binding("down", "cursor(1)", "Entry down", show=False),
        Binding("home", "cursor_to(0)", "First entry", show=False),
        Binding("end", "cursor_to(-1)", "Last entry", show=False),
        Binding("escape", "clear_cursor", "Follow", show=False),
        Binding("c,ctrl+c", "copy_selected", "Copy", show=False),
        widget_binding("log_open", "app.act('log_open')"),
        widget_binding("log_wrap", "app.act('log_wrap')"),
        widget_binding("log_full", "app.act('log_full')"),
        widget_binding("log_quiet", "app.act('log_quiet')"),
    ]

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
        # What the filter lets through (only kept while a filter is active).
        self._passed: deque[_LogEntry] = deque(maxlen=max(1, max_lines))
        self.filter = LogFilter()
        self.wrap = False
        # Wrapped rows: (entry, first character) per screen row, rebuilt when drawn.
        self._rows: list[tuple[_LogEntry, int]] = []
        self._cursor: _LogEntry | None = None
        self._widest = 0
        self._follow = True
        self.written = 0
        self.counts: dict[str, int] = {}
        self.on_copy: Callable[[str], None] | None = None

    @property
    def entries(self) -> list[tuple[str, str]]:
        """(kind, redacted text) of every kept entry, oldest first."""
        return [(e.kind, self._shown(e)) for e in self._entries]

    @property
    def shown_entries(self) -> list[tuple[str, str]]:
        """(kind, redacted text) of the entries the filter shows, oldest first."""
        return [(e.kind, self._shown(e)) for e in self._visible()]

    def _visible(self) -> deque[_LogEntry]:
        return self._passed if self.filter.active else self._entries

    def set_max_lines(self, max_lines: int) -> None:
        self._entries = deque(self._entries, maxlen=max(1, max_lines))
        self._passed = deque(self._passed, maxlen=max(1, max_lines))
        self._schedule()

    def write(self, kind: EntryKind, text: str, at: float, detail: object = None) -> None:
        more = len(text) - _KEPT
        flat = text[:_KEPT].replace("\r", " ").replace("\n", " ")
        if more > 0:
            flat += f" … ({more} more chars)"
        entry = _LogEntry(at, kind, flat, detail)
        self._entries.append(entry)
        if self.filter.active and self.filter.accepts(kind, flat):
            self._passed.append(entry)
        self.written += 1
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if self.display:
            self._schedule()

    def write_many(self, items: Iterable[tuple[EntryKind, str, float]]) -> None:
        for kind, text, at in items:
            self.write(kind, text, at)

    def clear(self) -> None:
        self._entries.clear()
        self._passed.clear()
        self._cursor = None
        self._widest = 0
        self._schedule()

    # -- filter, wrap, the cursor -------------------------------------------------------------------------

    def set_filter(self, log_filter: LogFilter) -> None:
        self.filter = log_filter
        self._passed = deque(
            (e for e in self._entries if log_filter.accepts(e.kind, e.text)) if log_filter.active else (),
            maxlen=self._entries.maxlen,
        )
        if self._cursor is not None and self._cursor not in self._visible():
            self._cursor = None
        self._follow = self._cursor is None
        self._schedule()

    def set_wrap(self, wrap: bool) -> None:
        self.wrap = wrap
        self.scroll_to(x=0, animate=False)
        self._schedule()

    @property
    def cursor_entry(self) -> _LogEntry | None:
        return self._cursor

    def last_entry(self) -> _LogEntry | None:
        shown = self._visible()
        return shown[-1] if shown else None

    def action_cursor(self, step: int) -> None:
        shown = self._visible()
        if not shown:
            return
        cursor = self._cursor
        index = shown.index(cursor) if cursor is not None and cursor in shown else len(shown) - (0 if step < 0 else 1)
        self._move_to(index + step)

    def action_cursor_to(self, index: int) -> None:
        self._move_to(index if index >= 0 else len(self._visible()) - 1)

    def action_clear_cursor(self) -> None:
        self._cursor = None
        self._follow = True
        self._schedule()

    def _move_to(self, index: int) -> None:
        shown = self._visible()
        if not shown:
            return
        self._cursor = shown[max(0, min(len(shown) - 1, index))]
        self._follow = False
        row = self._row_of(self._cursor)
        height = max(1, self.scrollable_content_region.height)
        if row < self.scroll_y or row >= self.scroll_y + height:
            self.scroll_to(y=max(0, row - height // 2), animate=False, force=True)
        self.refresh()

    def _row_of(self, entry: _LogEntry) -> int:
        if self.wrap:
            return next((i for i, (e, _) in enumerate(self._rows) if e is entry), 0)
        return self._visible().index(entry)

    def entry_text(self, entry: _LogEntry) -> str:
        """One entry as a line of plain text: time, mark and the (redacted) summary."""
        return f"{self.clock.clock_time_ms(entry.at)} {_MARKS.get(entry.kind, ' ')} {self._shown(entry)}"

    def detail_text(self, entry: _LogEntry) -> str:
        """The whole frame or request behind an entry, for reading (redacted, controls escaped)."""
        return clipboard_text(self.redact(format_detail(self.entry_text(entry), entry.kind, entry.detail)))

    def action_copy_selected(self) -> None:
        text = ""
        selection = self.text_selection
        if selection is not None:
            found = self.get_selection(selection)
            text = found[0] if found else ""
        if not text and self._cursor is not None:
            text = self.entry_text(self._cursor)
        if text and self.on_copy is not None:
            self.on_copy(clipboard_text(text))

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        rows = [self._plain_row(i) for i in range(self._row_count())]
        return clipboard_text(selection.extract("\n".join(rows))), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    # -- layout -------------------------------------------------------------------------------------------

    def _row_count(self) -> int:
        return len(self._rows) if self.wrap else len(self._visible())

    def _flush(self) -> None:
        width = self.scrollable_content_region.width
        shown = self._visible()
        if self.wrap:
            size = max(1, width)
            self._rows = [
                (entry, start) for entry in shown for start in range(0, max(1, len(self.entry_text(entry))), size)
            ]
            self._grow(Size(width, len(self._rows)))
        else:
            self._rows = []
            # Widths are estimated from the raw text: exact enough for a scrollbar, and free.
            for entry in list(shown)[-64:]:
                self._widest = max(self._widest, len(entry.text) + 16)
            self._grow(Size(max(self._widest, width), len(shown)))
        if self._follow:
            self.scroll_to(
                y=max(0, self._row_count() - self.scrollable_content_region.height), animate=False, force=True
            )
        self.refresh()

    def on_show(self, event: events.Show) -> None:
        self._follow = self._cursor is None
        self._schedule()

    def on_resize(self, event: events.Resize) -> None:
        self._schedule()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._follow = new_value >= self.max_scroll_y - 0.5 and self._cursor is None

    # -- drawing ------------------------------------------------------------------------------------------

    def _shown(self, entry: _LogEntry) -> str:
        if entry.shown is None:
            # Redact first (a cut must not split a secret), then escape and cut to what a row can show.
            entry.shown = safe_line(self.redact(entry.text), ENTRY_LIMIT)
        return entry.shown

    def _row(self, row: int) -> tuple[_LogEntry, int] | None:
        if self.wrap:
            return self._rows[row] if row < len(self._rows) else None
        shown = self._visible()
        return (shown[row], 0) if row < len(shown) else None

    def _plain_row(self, row: int) -> str:
        found = self._row(row)
        if found is None:
            return ""
        entry, start = found
        text = self.entry_text(entry)
        return text[start : start + max(1, self.scrollable_content_region.width)] if self.wrap else text

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        row = scroll_y + y
        found = self._row(row)
        if found is None:
            return Strip.blank(width, self.rich_style)
        entry, start = found
        try:
            text = self._row_text(entry)
            if self.wrap:
                text = text[start : start + width]
        except Exception:  # one bad entry must not take the console down
            log.exception("cannot draw an event log entry")
            text = Text("(entry could not be drawn)")
        strip = Strip(list(text.render(self.app.console)))
        selection = self.text_selection
        if selection is not None:
            selected = self.screen.get_component_rich_style("screen--selection")
            strip = select_cells(strip, selection.get_span(row), selected)
        if entry is self._cursor:
            strip = strip.apply_style(self._style("cursor"))
        strip = strip.crop_extend(scroll_x, scroll_x + width, self.rich_style).apply_style(self.rich_style)
        return strip.apply_offsets(scroll_x, row)

    def _row_text(self, entry: _LogEntry) -> Text:
        return Text.assemble(
            (self.clock.clock_time_ms(entry.at), self._style("time")),
            " ",
            (f"{_MARKS.get(entry.kind, ' ')} {self._shown(entry)}", self._style(entry.kind)),
            no_wrap=True,
            end="",
        )


def format_detail(line: str, kind: str, detail: object) -> str:
    """An entry's whole frame (JSON pretty-printed when it parses) or request (its fields, one a line)."""
    if detail is None:
        return line
    if isinstance(detail, str):
        import json  # only when an entry is opened

        try:
            body = json.dumps(json.loads(detail), indent=2, ensure_ascii=False)
        except ValueError:
            body = detail
        return f"{line}\n\n{body}"
    if dataclasses.is_dataclass(detail) and not isinstance(detail, type):
        fields = [f"{f.name}: {getattr(detail, f.name)}" for f in dataclasses.fields(detail)]
        return line + "\n\n" + "\n".join(fields)
    return f"{line}\n\n{detail}"
