"""The end-of-call summary, shown above the say box once the call has ended (the transcript stays)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widget import Widget

from tui.ui import safe
from tui.ui.format import latency
from tui.ui.widgets.guard import safe_render

if TYPE_CHECKING:
    from tui.session.updates import CallSummary


def summary_lines(summary: CallSummary, keys: dict[str, str] | None = None) -> list[str]:
    """The summary as plain lines; the first one always starts with ``Call ended``."""
    keys = keys or {}
    lines = [summary.headline()]
    says = f"says {summary.says_sent} sent, {summary.says_heard} heard"
    if summary.says_failed:
        says += f", {summary.says_failed} failed"
    stats = f"lines {summary.lines_in} in, {summary.lines_out} out · {says}"
    if summary.say_heard_p50_ms is not None:
        stats += f" · say→heard p50 {latency(summary.say_heard_p50_ms)}, p95 {latency(summary.say_heard_p95_ms)}"
    if summary.gaps:
        stats += f" · {summary.gaps} connection gap(s) recovered"
    lines.append(stats)
    if summary.record_path:
        lines.append(f"record {summary.record_path}")
    if summary.record_incomplete:
        lines.append(f"record incomplete: {summary.record_incomplete}")
    new_call = keys.get("new_call", "F5")
    export = keys.get("export", "F7")
    lines.append(f"{new_call} or /dial: new call · {export} or /export: save the transcript")
    return lines


class SummaryPanel(Widget):
    DEFAULT_CSS = """
    SummaryPanel {
        height: auto;
        display: none;
    }
    SummaryPanel.-shown {
        display: block;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[str] = []
        self.exported: list[str] = []

    def show_summary(self, summary: CallSummary, keys: dict[str, str] | None = None) -> None:
        self.lines = summary_lines(summary, keys)
        self.add_class("-shown")
        self.refresh(layout=True)

    def add_line(self, text: str, *, passed: bool) -> None:
        """A line after the call's own (a --script verdict); it opens the summary if the call never did."""
        self.lines.append(("✓ " if passed else "✗ ") + text)
        self.add_class("-shown")
        self.refresh(layout=True)

    def show_exported(self, paths: list[str]) -> None:
        self.exported = paths
        self.refresh(layout=True)

    def clear(self) -> None:
        self.lines = []
        self.exported = []
        self.remove_class("-shown")
        self.refresh(layout=True)

    @property
    def plain(self) -> str:
        """The whole text, the record path unshortened (what the screen shows may keep only its end)."""
        return self._content(0).plain

    @safe_render
    def render(self) -> Content:
        return self._content(self.size.width - 3 if self.size.width else 0)

    def _content(self, room: int) -> Content:
        if not self.lines:
            return Content("")
        head, *rest = self.lines
        parts: list[str | tuple[str, str]] = [(head, "bold $error")]
        for line in rest:
            if line.startswith("record ") and room and len(line) > room:
                # A path folded mid-name cannot be copied; keep its end (the file name) on one line.
                path = line.removeprefix("record ")
                line = "record …" + path[-max(8, room - len("record …")) :]
            parts += ["\n", ("  " + line, "$text-muted")]
        if self.exported:
            parts += ["\n", ("  exported ", "$text-muted"), ", ".join(self.exported)]
        return safe.assemble(*parts)
