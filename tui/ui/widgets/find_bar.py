"""The find box: searches the transcript as you type; Enter or ↑ goes to an older match, ↓ a newer one."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input

PLACEHOLDER = "Find in the transcript · Enter/↑ older · ↓ newer · Esc closes"


class FindBar(Input):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "step(False)", "Older match", show=False),
        Binding("down", "step(True)", "Newer match", show=False),
        Binding("escape", "close", "Close", show=False),
    ]

    def __init__(
        self,
        on_query: Callable[[str], None],
        on_step: Callable[[bool], None],
        on_close: Callable[[], None],
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(placeholder=PLACEHOLDER, id=id, select_on_focus=True)
        self._on_query = on_query
        self._on_step = on_step
        self._on_close = on_close

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._on_query(event.value)

    async def action_submit(self) -> None:
        self._on_step(False)

    def action_step(self, forward: bool) -> None:
        self._on_step(forward)

    def action_close(self) -> None:
        self._on_close()
