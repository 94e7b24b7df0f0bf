"""The transcript: a bounded, line-oriented view that patches itself from TranscriptChange ops.

One widget draws every line through the Line API (``render_line``), so a call with thousands of lines
costs no more widgets than an empty one. Changes are applied to the model at once (cheap list edits)
and drawn at most once per message-loop turn, so a burst of events becomes one refresh. The view keeps
only the newest ``max_lines`` lines; the session keeps more and its record on disk keeps everything.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Region, Size
from textual.strip import Strip

from tui.ui.clock import TimeMode, UiClock
from tui.ui.widgets.row_cache import RowCache
from tui.ui.widgets.transcript_cursor import CursorView, select_cells
from tui.ui.widgets.transcript_rows import LINE_LIMIT, RowStyle, render_rows
from tui.ui.widgets.transcript_rows import Entry as _Entry

if TYPE_CHECKING:
    from tui.session.transcript import TranscriptChange, TranscriptLine

log = logging.getLogger("tui.ui")

__all__ = ["LINE_LIMIT", "TranscriptView"]

# The time column's width in each mode (``12:00:01``, ``12:00:01.234``, ``T+0:12.345``): every text row
# starts after it and the marker, so columns line up.
_TIME_WIDTH: dict[str, int] = {"wall": 8, "wall-ms": 12, "relative": 10}


# Drawn rows are kept for this many entries only (the visible ones and their neighbours); the others keep
# just their row count and are drawn again if scrolled back into view. A Strip carries several caches of
# its own, so keeping every entry's rows would cost tens of MB for a long call.
_DRAWN_ENTRIES = 400


class TranscriptView(CursorView, can_focus=True):
    """Shows a CallSession's transcript book: finals, interim text, SAY lines, gap markers."""

    STYLE_PREFIX: ClassVar[str] = "transcript--"
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "transcript--time",
        "transcript--in",
        "transcript--out",
        "transcript--interim",
        "transcript--say",
        "transcript--state-pending",
        "transcript--state-sent",
        "transcript--state-heard",
        "transcript--state-flushed",
        "transcript--state-failed",
        "transcript--hint",
        "transcript--gap",
        "transcript--note",
        "transcript--backfilled",
        "transcript--placeholder",
        "transcript--badge",
        "transcript--match",
        "transcript--cursor",
    }

    DEFAULT_CSS = """
    TranscriptView {
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(
        self,
        *,
        max_lines: int = 5000,
        clock: UiClock | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.max_lines = max(1, max_lines)
        self.clock = clock or UiClock()
        self.placeholder = ""
        # Where to re-read the whole book from if an op does not fit (it should never happen).
        self.source: Callable[[], Sequence[TranscriptLine]] | None = None
        self._entries: list[_Entry] = []
        self._by_key: dict[str, _Entry] = {}
        # Book lines older than the first one shown (trimmed by max_lines, or inserted late and old).
        self._base = 0
        # _offsets[i] is the first row of entry i, counted from an origin that stays put when old entries
        # are trimmed off the front (so trimming is one slice, not a renumbering); _offsets[-1] ends the
        # last entry. Entries from _dirty_from on need laying out again.
        self._offsets: list[int] = [0]
        self._dirty_from = 0
        self._layout_width = 0
        self._follow = True
        self._unseen = 0
        self._rows_dropped_above = 0
        self._rich_style: Style | None = None
        self._drawn: OrderedDict[_Entry, list[Strip]] = OrderedDict()
        # Styled rows on screen, reused while the view only scrolls (see row_cache).
        self._shown = RowCache()
        self.changes_applied = 0
        self.resyncs = 0
        self.removed_after_trim = 0
        self.time_mode: TimeMode = "wall"
        self.time_origin: datetime | None = None

    # -- reading (tests, benchmarks) ----------------------------------------------------------------------

    @property
    def lines(self) -> list[TranscriptLine]:
        return [e.line for e in self._entries]

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def following(self) -> bool:
        return self._follow

    @property
    def unseen(self) -> int:
        return self._unseen

    @property
    def total_rows(self) -> int:
        return self._offsets[-1] - self._offsets[0]

    def plain_rows(self) -> list[str]:
        """Every row as plain text (what a reader of the whole scrollback would see)."""
        # Lines written since the last flush are laid out now, so a copy (or a check) made in the same
        # message-loop turn as a write includes them rather than the screen of one turn ago.
        if self.is_mounted and self._dirty_from < len(self._entries):
            self._flush()
        return [strip.text for e in self._entries if e.rows >= 0 for strip in self._strips(e)]

    # -- writing ------------------------------------------------------------------------------------------

    def clear(self) -> None:
        self._entries.clear()
        self._by_key.clear()
        self._base = 0
        self._offsets = [0]
        self._drawn.clear()
        self._shown.clear()
        self._rows_dropped_above = 0
        self._dirty_from = 0
        self._unseen = 0
        self._follow = True
        self._cursor = self._anchor = None
        self._lines_changed(-1)
        self._schedule()

    def reset(self, lines: Sequence[TranscriptLine]) -> None:
        """Show the tail of ``lines`` (a whole transcript book) from scratch."""
        kept = lines[-self.max_lines :] if len(lines) > self.max_lines else lines
        self._entries = [_Entry(line) for line in kept]
        self._by_key = {e.key: e for e in self._entries}
        self._base = len(lines) - len(kept)
        self.removed_after_trim = 0
        self._offsets = [0]
        self._drawn.clear()
        self._shown.clear()
        self._rows_dropped_above = 0
        self._dirty_from = 0
        self._unseen = 0
        self._cursor = self._anchor = None
        self._lines_changed(-1)
        self._schedule()

    def apply(self, changes: Iterable[TranscriptChange]) -> None:
        """Apply a session's changes, in order, by index into its book."""
        entries = self._entries
        dirty = self._dirty_from
        for change in changes:
            self.changes_applied += 1
            index = change.index - self._base
            line = change.line
            self._lines_changed(-1 if index < 0 else change.index)
            if change.op == "insert":
                if index < 0:
                    self._base += 1
                    continue
                if index > len(entries):
                    self._resync("insert past the end")
                    return
                entry = _Entry(line)
                entries.insert(index, entry)
                dirty = min(dirty, index)
                self._by_key[line.key] = entry
                if not self._follow and line.kind != "interim":
                    self._unseen += 1
            elif change.op == "remove":
                if index < 0:
                    self._base -= 1
                    continue
                if index >= len(entries) or entries[index].line is not line:
                    self._resync("remove of a line not shown there")
                    return
                del entries[index]
                dirty = min(dirty, index)
                if self._base:
                    self.removed_after_trim += 1
                if self._by_key.get(line.key) is not None and self._by_key[line.key].line is line:
                    del self._by_key[line.key]
            else:
                if index < 0:
                    continue
                if index >= len(entries) or entries[index].line is not line:
                    self._resync("update of a line not shown there")
                    return
                entries[index].invalidate()
                self._drawn.pop(entries[index], None)
                dirty = min(dirty, index)
        overflow = len(entries) - self.max_lines
        if overflow > 0:
            for entry in entries[:overflow]:
                self._rows_dropped_above += max(0, entry.rows)
                self._drawn.pop(entry, None)
                if self._by_key.get(entry.key) is entry:
                    del self._by_key[entry.key]
            del entries[:overflow]
            self._base += overflow
            laid_out = min(overflow, len(self._offsets) - 1, dirty)
            del self._offsets[:laid_out]
            dirty -= laid_out
            if laid_out < overflow:
                # Some trimmed entries were never laid out: start over from the new first entry.
                self._offsets = [self._offsets[0]]
                dirty = 0
        self._dirty_from = max(0, dirty)
        self._schedule()

    def touch(self, key: str) -> None:
        """Redraw one line whose data changed without a book change (a SAY line's state)."""
        entry = self._by_key.get(key)
        if entry is not None:
            entry.invalidate()
            self._drawn.pop(entry, None)
            index = self._entries.index(entry)
            self._lines_changed(self._base + index)
            self._dirty_from = min(self._dirty_from, index)
            self._schedule()

    def follow(self) -> None:
        """Jump to the newest line and keep following."""
        self._follow = True
        self._unseen = 0
        self._scroll_to_end()
        self.refresh()

    def _resync(self, why: str) -> None:
        self.resyncs += 1
        log.warning("transcript view out of step with the session (%s); redrawing from the book", why)
        source = self.source
        self.reset(list(source()) if source is not None else [])

    # -- layout -------------------------------------------------------------------------------------------

    def _flush(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 0:
            return
        self._layout(width)
        self._grow(Size(width, self.total_rows))
        dropped, self._rows_dropped_above = self._rows_dropped_above, 0
        if self._follow:
            self._scroll_to_end()
        elif dropped:
            # Keep the lines being read still while old ones are trimmed off the top.
            self.scroll_to(y=max(0, self.scroll_y - dropped), animate=False)
        self.refresh()

    def _scroll_to_end(self) -> None:
        target = max(0, self.total_rows - self.scrollable_content_region.height)
        self.scroll_to(y=target, animate=False, force=True)

    def _layout(self, width: int) -> None:
        """Lay out (render and count the rows of) every entry from the first one that changed."""
        entries = self._entries
        if width != self._layout_width:
            self._layout_width = width
            for entry in entries:
                entry.rows = -1
            self._drawn.clear()
            self._shown.clear()
            self._offsets = [0]
            self._dirty_from = 0
        start = min(self._dirty_from, len(entries), len(self._offsets) - 1)
        offsets = self._offsets
        self._shown.forget_from(offsets[start] - offsets[0])
        del offsets[start + 1 :]
        rows = offsets[start]
        # Not islice: it walks the skipped entries one by one, which is most of a flush in a long call.
        for entry in entries[start:]:
            if entry.rows < 0 or entry.width != width:
                entry.width = width
                entry.rows = len(self._draw(entry))
            rows += entry.rows
            offsets.append(rows)
        self._dirty_from = len(entries)

    def on_resize(self, event: events.Resize) -> None:
        self._schedule()

    def on_mount(self) -> None:
        self._schedule()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._rich_style = None
        self._shown.clear()
        self._redraw_all()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        at_end = new_value >= self.max_scroll_y - 0.5
        if at_end != self._follow:
            self._follow = at_end
            if at_end:
                self._unseen = 0
            self.refresh()

    # -- drawing ------------------------------------------------------------------------------------------

    def _base_style(self) -> Style:
        # DOMNode.rich_style walks every ancestor; drawing asks for it on each row of each frame.
        style = self._rich_style
        if style is None:
            style = self._rich_style = self.rich_style
        return style

    def render_lines(self, crop: Region) -> list[Strip]:
        # Following the call scrolls the view on every new line, and Textual then redraws every row;
        # rows already drawn are reused instead (only while nothing but the scroll position changed).
        scroll_x, scroll_y = self.scroll_offset
        gutter = self.styles.gutter
        offsets = self._offsets
        valid = min(self._dirty_from, len(offsets) - 1, len(self._entries))
        if (
            valid <= 0
            or gutter.top
            or gutter.bottom
            or self._cursor is not None
            or self.text_selection is not None
            or (self._unseen and not self._follow)
        ):
            self._shown.clear()
            return super().render_lines(crop)
        key = (
            self.size,
            crop.x,
            crop.width,
            scroll_x,
            offsets[0],
            self.has_focus,
            self.opacity,
            self.background_colors,
            tuple(self.get_line_filters()),
        )
        render = super().render_lines
        return self._shown.lines(key, crop, scroll_y, offsets[valid] - offsets[0], render)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        region = self.scrollable_content_region
        width = region.width
        base = self._base_style()
        row = scroll_y + y
        virtual_row = row
        strip: Strip | None = None
        marked = False
        if not self._entries:
            if y == 0 and self.placeholder:
                strip = Strip(list(Text(self.placeholder, style=self._style("placeholder")).render(self.app.console)))
        else:
            # Only entries before the first changed one have trustworthy offsets until the next flush
            # (which is already scheduled); rows past them stay blank for that moment.
            offsets = self._offsets
            valid = min(self._dirty_from, len(offsets) - 1, len(self._entries))
            row += offsets[0]
            if valid > 0 and row < offsets[valid]:
                index = bisect_right(offsets, row, 0, valid + 1) - 1
                strips = self._strips(self._entries[index])
                offset = row - offsets[index]
                if offset < len(strips):
                    # The offsets Textual's mouse selection reads; the strip caches the result, so a row
                    # drawn again (every frame while lines arrive) pays nothing for them.
                    strip = strips[offset].apply_offsets(0, virtual_row)
                    marked = self._cursor is not None and self._is_marked(index)
        if strip is None:
            return Strip.blank(width, base)
        selection = self.text_selection
        if selection is not None:
            selected = self.screen.get_component_rich_style("screen--selection")
            strip = select_cells(strip, selection.get_span(virtual_row), selected)
        if marked:
            strip = strip.apply_style(self._style("cursor"))
        strip = strip.crop_extend(scroll_x, scroll_x + width, base)
        if self._unseen and not self._follow and y == region.height - 1:
            strip = self._with_badge(strip, width)
        return strip.apply_style(base)

    def _with_badge(self, strip: Strip, width: int) -> Strip:
        badge = Text(f" {self._unseen} new ↓ ", style=self._style("badge"))
        size = badge.cell_len
        if size >= width:
            return strip
        left = strip.crop(0, width - size)
        return Strip([*left, *badge.render(self.app.console)], width)

    def _strips(self, entry: _Entry) -> list[Strip]:
        strips = self._drawn.get(entry)
        if strips is None:
            return self._draw(entry)
        self._drawn.move_to_end(entry)
        return strips

    def _draw(self, entry: _Entry) -> list[Strip]:
        strips = self._render_entry(entry.line, entry.width)
        self._drawn[entry] = strips
        if len(self._drawn) > _DRAWN_ENTRIES:
            self._drawn.popitem(last=False)
        return strips

    def _render_entry(self, line: TranscriptLine, width: int) -> list[Strip]:
        try:
            return render_rows(line, width, self._row_style())
        except Exception:  # a bad line must not take the view down
            log.exception("cannot draw transcript line %s", line.key)
            return [Strip([Segment(f"(line {line.key} could not be drawn)")])]

    def _row_style(self) -> RowStyle:
        mode, origin = self.time_mode, self.time_origin

        def stamp(line: TranscriptLine) -> str:
            return self.clock.stamp(line.at, mode, origin or line.at)

        return RowStyle(self.app.console, self._style, stamp, _TIME_WIDTH[mode], self._match)

    def _forget_drawn(self) -> None:
        self._drawn.clear()
        self._shown.clear()

    def _redraw_all(self) -> None:
        for entry in self._entries:
            entry.rows = -1
        self._drawn.clear()
        self._shown.clear()
        self._dirty_from = 0
        self._schedule()

    # -- times --------------------------------------------------------------------------------------------

    def set_time_mode(self, mode: TimeMode, origin: datetime | None = None) -> None:
        """Show times as the wall clock (to the second or millisecond) or since ``origin`` (the call's start)."""
        self.time_mode = mode
        self.time_origin = origin
        self._redraw_all()

    def stamp(self, line: TranscriptLine) -> str:
        return self.clock.stamp(line.at, self.time_mode, self.time_origin or line.at)
