"""One event-log entry in full: the whole frame (JSON laid out) or request, as plain text."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class EntryScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    EntryScreen { align: center middle; }
    #entry-box { width: 90%; height: 85%; border: round $accent; background: $surface; padding: 0 1; }
    #entry-title { color: $text-muted; }
    #entry-scroll { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="entry_close", tooltip="Close the entry"),
        Binding("c,ctrl+c", "copy", "Copy", id="entry_copy", tooltip="Copy the whole entry"),
    ]

    def __init__(self, text: str, *, on_copy: Callable[[str], None] | None = None) -> None:
        super().__init__()
        # Already redacted and escaped by the log; Content never reads markup in it.
        self.text = text
        self.on_copy = on_copy

    def compose(self) -> ComposeResult:
        with Vertical(id="entry-box"):
            yield Label("Event log entry  ·  c copies  ·  Esc closes", id="entry-title")
            with VerticalScroll(id="entry-scroll"):
                yield Static(Content(self.text), id="entry-text")

    def on_mount(self) -> None:
        self.query_one("#entry-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy(self) -> None:
        if self.on_copy is not None:
            self.on_copy(self.text)
