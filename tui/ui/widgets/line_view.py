"""What the transcript view and the event log share: line-oriented scroll views fed at event rates.

Writes only mark the view dirty; one ``_flush`` per message-loop turn lays out and refreshes, however
many writes came in. Component styles are looked up once per style change, not per row.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip


class SteadyScrollBar(ScrollBar):
    """A vertical scrollbar that skips Textual's drawing pipeline when its bar looks the same as last time.

    A line view's scroll range grows with every line, which repaints its scrollbar each frame (about a
    millisecond for 33 rows) although the thumb moves by a cell only now and then. The bar's own cells
    (``ScrollBarRender.render_bar``, cheap) are the cache key, so what is shown is always what Textual
    would draw.
    """

    _shown: tuple[object, list[Strip]] | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        bar = self.render()
        style = bar.style if isinstance(bar, ScrollBarRender) else None
        if not isinstance(bar, ScrollBarRender) or not isinstance(style, Style) or not (style.bgcolor and style.color):
            return super().render_lines(crop)
        width, height = self.size
        cells = ScrollBarRender.render_bar(
            size=height if bar.vertical else width,
            virtual_size=bar.virtual_size,
            window_size=bar.window_size,
            position=bar.position,
            thickness=width if bar.vertical else height,
            vertical=bar.vertical,
            back_color=style.bgcolor,
            bar_color=style.color,
        )
        filters = tuple(self.get_line_filters())
        key = (crop, self.size, tuple(cells.segments), self.opacity, self.background_colors, filters)
        shown = self._shown
        if shown is not None and shown[0] == key:
            return shown[1]
        strips = super().render_lines(crop)
        self._shown = (key, strips)
        return strips


class LineView(ScrollView):
    STYLE_PREFIX: ClassVar[str] = ""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._flush_pending = False
        self._styles: dict[str, Style] | None = None

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        # Widget.vertical_scrollbar, with the steady bar (private: see docs/DEVELOPING.md, "Moving the
        # Textual pin").
        if self._vertical_scrollbar is None:
            bar = SteadyScrollBar(vertical=True, name="vertical", thickness=self.scrollbar_size_vertical)
            bar.display = False
            self._vertical_scrollbar = bar
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar

    def _schedule(self) -> None:
        if self._flush_pending or not self.is_mounted:
            return
        self._flush_pending = True
        self.call_next(self._run_flush)

    def _run_flush(self) -> None:
        self._flush_pending = False
        self._flush()

    def _flush(self) -> None:
        raise NotImplementedError

    def _grow(self, size: Size) -> None:
        """Set the scroll range. When only the height changes (the vertical scrollbar is always shown),
        skip the screen-wide layout that assigning ``virtual_size`` costs: at event rates it was most of
        the time a new line took to reach the screen."""
        current = self.virtual_size
        if size == current:
            return
        # ``_scroll_update`` is ScrollView's private step after a size change (see docs/DEVELOPING.md,
        # "Moving the Textual pin"); without it the public assignment below still works, only slower.
        if size.width == current.width and current.height > 0 and hasattr(self, "_scroll_update"):
            self.set_reactive(LineView.virtual_size, size)
            self._scroll_update(size)
        else:
            self.virtual_size = size

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None

    def _style(self, name: str) -> Style:
        styles = self._styles
        if styles is None:
            styles = self._styles = {
                cls.removeprefix(self.STYLE_PREFIX): self.get_component_rich_style(cls, partial=True)
                for cls in self.COMPONENT_CLASSES
            }
        return styles.get(name, Style.null())
