"""The transcript's keyboard cursor, its selection (keyboard and mouse), copying and search.

A base of ``TranscriptView``: the view owns the lines and their layout, this part the marks on them.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar, overload

from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.selection import Selection
from textual.strip import Strip

from tui.ui.clipboard import clipboard_text
from tui.ui.keymap import widget_binding
from tui.ui.widgets.line_view import LineView
from tui.ui.widgets.transcript_rows import Entry, plain_line

if TYPE_CHECKING:
    from tui.session.transcript import TranscriptLine
    from tui.session.transcript_search import FoldedIndex


class CursorView(LineView):
    # Keys of the focused transcript: a line cursor to read, select and copy with the keyboard.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Line up", show=False),
        Binding("down", "cursor(1)", "Line down", show=False),
        Binding("shift+up", "cursor(-1, True)", "Select up", show=False),
        Binding("shift+down", "cursor(1, True)", "Select down", show=False),
        Binding("home", "cursor_to(0)", "First line", show=False),
        Binding("end", "cursor_to(-1)", "Last line", show=False),
        Binding("escape", "clear_cursor", "Follow", show=False),
        Binding("c,ctrl+c", "copy_selected", "Copy", show=False),
        widget_binding("find_next", "app.act('find_next')"),
        widget_binding("find_prev", "app.act('find_prev')"),
        widget_binding("toggle_time", "app.act('toggle_time')"),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._entries: list[Entry] = []
        self._offsets: list[int] = [0]
        self._dirty_from = 0
        self._follow = True
        self.query_text = ""
        self._match: re.Pattern[str] | None = None
        # The keyboard's line cursor and the other end of its selection (shift+↑/↓), as entries so they
        # stay on their line while lines come and go.
        self._cursor: Entry | None = None
        self._anchor: Entry | None = None
        # Copying reaches the app through this (``App.copy_to_clipboard``).
        self.on_copy: Callable[[str], None] | None = None
        self._base = 0
        # The search's folded text (built on the first search) and the first absolute line changed since.
        self._folded: FoldedIndex | None = None
        self._fold_dirty: int | None = None
        self._marks_key: tuple[object, ...] = ()
        self._marks = (1, 0)

    def _lines_changed(self, absolute: int) -> None:
        """Lines from absolute index ``absolute`` on changed; -1: all of them (renumbered)."""
        dirty = self._fold_dirty
        self._fold_dirty = absolute if dirty is None else min(dirty, absolute)

    # What the view provides.
    @property
    def total_rows(self) -> int:
        return self._offsets[-1] - self._offsets[0]

    def _layout(self, width: int) -> None:
        raise NotImplementedError

    def _forget_drawn(self) -> None:
        raise NotImplementedError

    def plain_rows(self) -> list[str]:
        raise NotImplementedError

    def stamp(self, line: TranscriptLine) -> str:
        raise NotImplementedError

    def follow(self) -> None:
        raise NotImplementedError

    # -- the cursor, selection and copying ----------------------------------------------------------------

    @property
    def cursor_line(self) -> TranscriptLine | None:
        return self._cursor.line if self._cursor is not None else None

    def _index(self, entry: Entry | None) -> int:
        if entry is None:
            return -1
        try:
            return self._entries.index(entry)
        except ValueError:
            return -1

    def _is_marked(self, index: int) -> bool:
        # Asked for every row drawn: the cursor's place is looked up once per change, not per row.
        key = (self._cursor, self._anchor, self._base, len(self._entries), self._dirty_from)
        if key != self._marks_key:
            here = self._index(self._cursor)
            there = self._index(self._anchor) if self._anchor is not None else here
            there = here if there < 0 else there
            self._marks = (min(here, there), max(here, there)) if here >= 0 else (1, 0)
            self._marks_key = key
        low, high = self._marks
        return low <= index <= high

    def selected_lines(self) -> list[TranscriptLine]:
        """The keyboard selection (cursor to anchor), oldest first; empty without a cursor."""
        here = self._index(self._cursor)
        if here < 0:
            return []
        there = self._index(self._anchor) if self._anchor is not None else here
        there = here if there < 0 else there
        low, high = min(here, there), max(here, there)
        return [e.line for e in self._entries[low : high + 1]]

    def move_cursor_to(self, index: int, *, extend: bool = False) -> None:
        if not self._entries:
            return
        index = max(0, min(len(self._entries) - 1, index))
        entry = self._entries[index]
        if extend:
            if self._anchor is None:
                self._anchor = self._cursor or entry
        else:
            self._anchor = None
        self._cursor = entry
        self._scroll_to_index(index)
        self.refresh()

    def action_cursor(self, step: int, extend: bool = False) -> None:
        here = self._index(self._cursor)
        if here < 0:
            # Start from the newest line shown, wherever the view is scrolled to.
            here = self._last_visible_index() + (1 if step < 0 else 0)
        self.move_cursor_to(here + step, extend=extend)

    def action_cursor_to(self, index: int) -> None:
        self.move_cursor_to(index if index >= 0 else len(self._entries) - 1)

    def action_clear_cursor(self) -> None:
        self._cursor = self._anchor = None
        self.follow()

    def action_copy_selected(self) -> None:
        """Copy the mouse selection if there is one, else the keyboard's selected lines."""
        text = ""
        selection = self.text_selection
        if selection is not None:
            found = self.get_selection(selection)
            text = found[0] if found else ""
        if not text:
            text = "\n".join(plain_line(line, self.stamp(line)) for line in self.selected_lines())
        if text and self.on_copy is not None:
            self.on_copy(clipboard_text(text))

    def _last_visible_index(self) -> int:
        offsets = self._offsets
        valid = min(self._dirty_from, len(offsets) - 1, len(self._entries))
        if valid <= 0:
            return len(self._entries) - 1
        bottom = offsets[0] + int(self.scroll_y) + max(1, self.scrollable_content_region.height) - 1
        return min(valid - 1, bisect_right(offsets, bottom, 0, valid + 1) - 1)

    def _scroll_to_index(self, index: int) -> None:
        width = self.scrollable_content_region.width
        if width <= 0:
            return
        self._layout(width)
        self._grow(Size(width, self.total_rows))
        top = self._offsets[index] - self._offsets[0]
        bottom = self._offsets[index + 1] - self._offsets[0]
        height = max(1, self.scrollable_content_region.height)
        if top < self.scroll_y or bottom > self.scroll_y + height:
            self._follow = False
            self.scroll_to(y=max(0, top - height // 3), animate=False, force=True)

    def _search_index(self) -> FoldedIndex:
        folded = self._folded
        if folded is None:
            from tui.session.transcript_search import FoldedIndex  # not at start-up: see tests/ui/test_helpers.py

            folded = self._folded = FoldedIndex()
        elif self._fold_dirty is not None:
            if self._fold_dirty < 0:
                folded.clear()
            else:
                folded.invalidate_from(self._fold_dirty)
        self._fold_dirty = None
        return folded

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The mouse selection's text (Textual calls this to copy it), made safe for the clipboard."""
        return clipboard_text(selection.extract("\n".join(self.plain_rows()))), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    # -- search -------------------------------------------------------------------------------------------

    def set_query(self, text: str) -> None:
        """Highlight ``text`` (case-insensitive) wherever it occurs; empty clears the highlight."""
        text = text.strip()
        if text == self.query_text:
            return
        self.query_text = text
        self._match = re.compile(re.escape(text), re.IGNORECASE) if text else None
        self._forget_drawn()
        self.refresh()

    def find(self, text: str | None = None, *, forward: bool = True) -> TranscriptLine | None:
        """Move the cursor to the next (``forward``: newer) or previous line containing the query.

        A new query starts from the newest line (searching back) or, going forward, from the oldest; the
        search wraps around. Returns the line found, or None.
        """
        if text is not None:
            fresh = text.strip() != self.query_text
            self.set_query(text)
            if fresh:
                self._cursor = self._anchor = None
        if not self.query_text or not self._entries:
            return None
        here = self._index(self._cursor)
        if here < 0:
            here = -1 if forward else len(self._entries)
        lines = _Lines(self._entries)
        found = self._search_index().find(lines, self._base, self.query_text, here, forward=forward)
        if found is None:
            return None
        self.move_cursor_to(found)
        return self._entries[found].line


class _Lines(Sequence["TranscriptLine"]):
    """The entries' lines without copying a list of 100 000 of them for each search."""

    def __init__(self, entries: list[Entry]) -> None:
        self._entries = entries

    def __len__(self) -> int:
        return len(self._entries)

    @overload
    def __getitem__(self, index: int) -> TranscriptLine: ...

    @overload
    def __getitem__(self, index: slice) -> list[TranscriptLine]: ...

    def __getitem__(self, index: int | slice) -> TranscriptLine | list[TranscriptLine]:
        if isinstance(index, slice):
            return [e.line for e in self._entries[index]]
        return self._entries[index].line


def select_cells(strip: Strip, span: tuple[int, int] | None, style: Style) -> Strip:
    """``strip`` with the cells of ``span`` (the mouse selection on this row) in the selection style."""
    if span is None:
        return strip
    start, end = span
    length = strip.cell_length
    end = length if end < 0 else min(end, length)
    if start >= end:
        return strip
    before, middle, after = strip.divide([start, end, length])
    return Strip.join([before, middle.apply_style(style), after])
