"""``/attach`` with no id: a small list of live and recent calls to pick from with the keyboard."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from tui.ui import safe

if TYPE_CHECKING:
    from tui.session.call_lookup import CallChoice

HERE = Path(__file__).resolve().parent


def choice_text(choice: CallChoice) -> Content:
    """One row: the full id (what /attach takes), its kind, status and where it went. Remote text is data."""
    when = choice.created.strftime("%H:%M:%S") if choice.created is not None else "        "
    kind = "group" if choice.kind == "groupcall" else "call "
    dest = safe.one_line(choice.destination, 40)
    return safe.assemble(
        (safe.clean(choice.id, 64), "bold"),
        f"  {kind} ",
        (f"{safe.one_line(choice.status, 12):<12}", "$accent"),
        f" {when}  {dest}",
    )


class PickCallScreen(ModalScreen[str | None]):
    """Returns the chosen call id, or None (Esc). Up/Down move, Enter picks."""

    CSS_PATH = HERE / "pick_call.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="pick_cancel", tooltip="Close without attaching"),
    ]

    def __init__(self, choices: Sequence[CallChoice]) -> None:
        super().__init__()
        self.choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical(id="pick-box"):
            yield Label("Attach to a call  ·  ↑/↓ Enter picks · Esc cancels", id="pick-title")
            if self.choices:
                yield OptionList(*[Option(choice_text(c), id=c.id) for c in self.choices], id="pick-list")
            else:
                yield Label("No calls on this account yet.", id="pick-empty")

    def on_mount(self) -> None:
        if self.choices:
            self.query_one("#pick-list", OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
