"""What the transcript view and the event log share: line-oriented scroll views fed at event rates.

Writes only mark the view dirty; one ``_flush`` per message-loop turn lays out and refreshes, however
many writes came in. Component styles are looked up once per style change, not per row.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView


class LineView(ScrollView):
    STYLE_PREFIX: ClassVar[str] = ""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._flush_pending = False
        self._styles: dict[str, Style] | None = None

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
