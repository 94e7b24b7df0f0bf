"""The say box: one line of text to speak into the call, or a slash command; ↑/↓ walk the history.

Enter hands the text straight to the app's line handler (no message hop), which for plain text calls
``CallSession.say()`` synchronously: the request is on its way before this key press has finished
being processed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.binding import BindingType
from textual.geometry import Size
from textual.widgets import Input

from tui.actions.slash import parse_line
from tui.ui.keymap import widget_binding

PLACEHOLDER = "Type a line to say into the call · /help for commands"


class SayInput(Input):
    BINDINGS: ClassVar[list[BindingType]] = [
        widget_binding("history_prev", "history(-1)"),
        widget_binding("history_next", "history(1)"),
    ]

    def __init__(
        self,
        on_line: Callable[[str], bool],
        *,
        history_size: int = 500,
        id: str | None = None,
    ) -> None:
        super().__init__(placeholder=PLACEHOLDER, id=id, select_on_focus=False)
        self._on_line = on_line
        self.history: list[str] = []
        self._history_size = history_size
        self._position = 0
        self._draft = ""

    def _watch_value(self, value: str) -> None:
        # Input sets its scroll range to the text's width on every change, and assigning ``virtual_size``
        # re-lays out the whole screen (all widgets repainted) on each key press and on Enter, while the
        # say request is on its way. The box's own size is fixed by CSS, so only its scroll range needs
        # updating: the same private step as ``LineView._grow`` (docs/DEVELOPING.md, "Moving the Textual
        # pin"); Input's own assignment below then finds nothing to change.
        size = Size(self.content_width, 1)
        if size != self.virtual_size and self.virtual_size.height == 1 and hasattr(self, "_scroll_update"):
            self.set_reactive(Input.virtual_size, size)
            self._scroll_update(size)
        super()._watch_value(value)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.border_subtitle = byte_count(event.value)

    def remember(self, text: str) -> None:
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
            if len(self.history) > self._history_size:
                del self.history[: len(self.history) - self._history_size]
        self._position = len(self.history)
        self._draft = ""

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._position >= len(self.history):
            self._draft = self.value
        position = max(0, min(len(self.history), self._position + step))
        if position == self._position:
            return
        self._position = position
        self.value = self.history[position] if position < len(self.history) else self._draft
        self.cursor_position = len(self.value)

    async def action_submit(self) -> None:
        text = self.value
        if not text.strip():
            return
        keep = self._on_line(text)
        self.remember(text)
        if not keep:
            self.value = ""


def byte_count(text: str) -> str:
    """What the say box shows under the text: its size against VoIPBIN's 5000-byte limit per /say."""
    # Not imported at start-up: the console paints before any session module loads.
    from tui.session.textsplit import SAY_LIMIT_BYTES, split_for_say, utf8_len

    parsed = parse_line(text)
    if parsed.kind != "say":
        return ""
    size = utf8_len(parsed.text)
    if size <= SAY_LIMIT_BYTES:
        return f"{size}/{SAY_LIMIT_BYTES} B"
    return f"{size}/{SAY_LIMIT_BYTES} B · sent as {len(split_for_say(parsed.text))} lines"
