"""How one transcript line becomes rows on screen: the time, a marker, the wrapped text, a SAY line's state.

Kept apart from the view (which owns scrolling, layout and the cursor) so both stay readable.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from tui.ui.format import latency
from tui.voipbin.safetext import safe_line

if TYPE_CHECKING:
    from tui.session.transcript import TranscriptLine

MARKER_WIDTH = 3
# The view shows this much of one line (about 125 rows at 80 columns); the session record and the
# exports keep the whole text. A megabyte line would otherwise cost seconds and tens of MB to lay out.
LINE_LIMIT = 10_000


class Entry:
    __slots__ = ("line", "rows", "width")

    def __init__(self, line: TranscriptLine) -> None:
        self.line = line
        self.rows = -1  # laid-out row count at ``width``; -1 until laid out
        self.width = 0

    @property
    def key(self) -> str:
        return self.line.key

    def invalidate(self) -> None:
        self.rows = -1


MIN_TEXT_WIDTH = 12

_SAY_STATE_STYLE = {
    "queued": "state-pending",
    "sending": "state-pending",
    "sent": "state-sent",
    "heard": "state-heard",
    "flushed": "state-flushed",
    "failed": "state-failed",
}
# A scripted step's line (``--script``) takes the colour of its result.
_STEP_STYLES = {"passed": "state-heard", "failed": "state-failed", "skipped": "state-flushed", "running": "note"}


@dataclass(frozen=True, slots=True)
class RowStyle:
    """What drawing a line depends on besides the line: the console, component styles, the time text."""

    console: Console
    style: Callable[[str], Style]
    stamp: Callable[[TranscriptLine], str]
    time_width: int
    # Matches of the transcript search, highlighted where they occur.
    match: re.Pattern[str] | None = None


def render_rows(line: TranscriptLine, width: int, rs: RowStyle) -> list[Strip]:
    console, style = rs.console, rs.style
    at = rs.stamp(line).ljust(rs.time_width)
    kind = line.kind
    if kind in ("gap", "note", "step"):
        look = style(_STEP_STYLES.get(str(line.meta.get("status")), "note") if kind == "step" else kind)
        mark = "━━ " if kind == "gap" else "" if kind == "step" else "·· "
        text = Text.assemble((at, style("time")), " ", (mark + safe_line(line.text, LINE_LIMIT), look))
        _highlight(text, rs)
        return [Strip(list(row.render(console))) for row in text.wrap(console, max(MIN_TEXT_WIDTH, width))]

    prefix_width = rs.time_width + 1 + MARKER_WIDTH + 1
    body_width = max(MIN_TEXT_WIDTH, width - prefix_width)
    extra: list[Text] = []
    if kind == "say":
        marker, marker_style = "SAY", style("say")
        body = Text(safe_line(line.text, LINE_LIMIT), style=style("say"))
        _highlight(body, rs)
        extra = say_details(line, body, style)
    else:
        direction = line.direction or "?"
        marker = safe_line(direction[:MARKER_WIDTH])[:MARKER_WIDTH]
        marker_style = style("in" if direction == "in" else "out")
        if kind == "interim":
            body = Text(safe_line(line.text.rstrip(), LINE_LIMIT) + " …", style=style("interim"))
        else:
            body = Text(safe_line(line.text, LINE_LIMIT), style=marker_style)
            if line.backfilled:
                body = Text.assemble(("↺ ", style("backfilled")), body)
        _highlight(body, rs)
    prefix = Text.assemble((at, style("time")), " ", (marker.ljust(MARKER_WIDTH), marker_style), " ")
    prefix_segments = list(prefix.render(console))
    pad = [Segment(" " * prefix.cell_len)]
    strips: list[Strip] = []
    for part in itertools.chain([body], extra):
        for row in part.wrap(console, body_width):
            head = prefix_segments if not strips else pad
            strips.append(Strip([*head, *row.render(console)]))
    return strips or [Strip(prefix_segments)]


def _highlight(text: Text, rs: RowStyle) -> None:
    if rs.match is not None:
        text.highlight_regex(rs.match, rs.style("match"))


def say_details(line: TranscriptLine, body: Text, style: Callable[[str], Style]) -> list[Text]:
    item: Any = line.meta.get("say")
    if item is None:
        return []
    state: str = getattr(item, "state", "queued")
    tag = safe_line(str(getattr(item, "label", state)), 40)
    if state == "heard":
        tag += f" {latency(getattr(item, 'latency_ms', None))}"
    body.append("  ")
    body.append(f"[{tag}]", style=style(_SAY_STATE_STYLE.get(state, "state-pending")))
    if state not in ("failed", "flushed"):
        return []
    details: list[Text] = []
    error = getattr(item, "error", None)
    request_id = getattr(item, "request_id", None)
    if state == "failed" and error:
        why = safe_line(f"✗ {error}" + (f" (request {request_id})" if request_id else ""), 2000)
        details.append(Text(why, style=style("state-failed")))
    hint = getattr(item, "hint", None)
    if state == "failed" and hint:
        details.append(Text(safe_line(f"hint: {hint}", 1000), style=style("hint")))
    elif state == "flushed":
        details.append(Text("/resend (or ↑ Enter) says it again", style=style("hint")))
    return details


def plain_line(line: TranscriptLine, stamp: str) -> str:
    """One line as plain text for the clipboard: ``12:00:01 in  hello``; a SAY line with its state."""
    if line.kind in ("gap", "note", "step"):
        mark = {"gap": "━━ ", "note": "·· "}.get(line.kind, "")
        return f"{stamp} {mark}{line.text}"
    if line.kind == "say":
        item: Any = line.meta.get("say")
        state = f"  [{getattr(item, 'label', getattr(item, 'state', ''))}]" if item is not None else ""
        return f"{stamp} SAY {line.text}{state}"
    marker = (line.direction or "?")[:MARKER_WIDTH].ljust(MARKER_WIDTH)
    suffix = " …" if line.kind == "interim" else ""
    return f"{stamp} {marker} {line.text}{suffix}"
