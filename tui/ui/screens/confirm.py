"""A small modal question with one button (and one key) per answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from tui.ui import safe

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str
    key: str
    variant: str = "default"


class ConfirmScreen(ModalScreen[str | None]):
    """Returns the chosen value, or None for cancel (escape).

    Choices are given most drastic first. They are shown the other way round, the safe one (value
    ``cancel``, else the last) first and focused: Enter on the default, or Tab then Enter, must never
    hang up a live call.
    """

    CSS_PATH = HERE / "confirm.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="confirm_cancel", tooltip="Close without doing anything"),
    ]

    def __init__(self, title: str, message: str, choices: Sequence[Choice], *, purpose: str = "") -> None:
        super().__init__()
        self.purpose = purpose
        self.title_text = title
        self.message = message
        self.choices = list(choices)
        safe = next((c for c in self.choices if c.value == "cancel"), self.choices[-1])
        self.shown = [safe, *reversed([c for c in self.choices if c is not safe])]

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Label(safe.plain(self.title_text), id="confirm-title")
            yield Label(safe.multiline(self.message), id="confirm-message")
            with Horizontal(id="confirm-buttons"):
                for choice in self.shown:
                    variant = (
                        choice.variant if choice.variant in ("primary", "error", "warning", "success") else "default"
                    )
                    # A Content label: "[h]" is the key to press, not a markup tag.
                    label = safe.plain(f"{choice.label} [{choice.key}]")
                    yield Button(label, id=f"choice-{choice.value}", variant=variant)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.query_one(f"#choice-{self.shown[0].value}", Button).focus()

    def on_key(self, event: events.Key) -> None:
        for choice in self.choices:
            if event.key == choice.key:
                event.stop()
                self.dismiss(choice.value)
                return

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        value = (event.button.id or "").removeprefix("choice-")
        self.dismiss(value or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
