"""Styled rows of a scrolling line view, kept by virtual row while only the scroll position moves.

Textual repaints a scroll view whole whenever it scrolls, and every row goes through the styles pipeline
again (padding, border, tint, filters: tens of microseconds a row). A transcript that follows new lines
scrolls on every line, so each frame redrew all its rows although only the newest were new. Here a row
drawn once is reused while the view's look (``key``) is unchanged and its content has not been laid out
again (``forget_from``); only rows not seen before go through the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from textual.geometry import Region
from textual.strip import Strip


class RowCache:
    def __init__(self) -> None:
        self._rows: dict[int, Strip] = {}
        self._key: Hashable = None

    def __len__(self) -> int:
        return len(self._rows)

    def clear(self) -> None:
        self._rows.clear()

    def forget_from(self, row: int) -> None:
        """Rows from virtual row ``row`` on show something else now."""
        rows = self._rows
        if rows:
            for stale in [r for r in rows if r >= row]:
                del rows[stale]

    def lines(
        self,
        key: Hashable,
        crop: Region,
        top: int,
        limit: int,
        render: Callable[[Region], list[Strip]],
    ) -> list[Strip]:
        """The rows of ``crop`` (viewport rows; virtual row = ``top`` + y). Rows below ``limit`` may be
        kept; ``render`` draws the others, a run of consecutive rows at a time."""
        if key != self._key:
            self._rows.clear()
            self._key = key
        rows = self._rows
        kept: dict[int, Strip] = {}
        out: list[Strip] = []
        run_start = -1
        first, end = crop.y, crop.bottom
        for y in range(first, end + 1):
            row = top + y
            strip = rows.get(row) if y < end and row < limit else None
            if strip is None and y < end:
                if run_start < 0:
                    run_start = y
                continue
            if run_start >= 0:
                drawn = render(Region(crop.x, run_start, crop.width, y - run_start))
                for offset, fresh in enumerate(drawn):
                    if top + run_start + offset < limit:
                        kept[top + run_start + offset] = fresh
                out += drawn
                run_start = -1
            if strip is not None:
                kept[row] = strip
                out.append(strip)
        # Only what is on screen now is kept: memory stays one viewport's worth.
        self._rows = kept
        return out
