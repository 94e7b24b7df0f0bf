"""F1: every key (as remapped), every slash command, and where things are written."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui.actions.keys import key_label
from tui.actions.registry import ACTIONS, ActionState
from tui.actions.slash import slash_actions
from tui.ui import safe

HERE = Path(__file__).resolve().parent


def help_content(keys: Mapping[str, str], state: ActionState, *, notes: Mapping[str, str] | None = None) -> Content:
    parts: list[str | tuple[str, str]] = [
        ("Keys", "bold $accent"),
        ('   (remap in [keymap]: id = "key")', "$text-muted"),
    ]
    for decl in ACTIONS:
        if not decl.keys or decl.availability(state) == "hidden":
            continue
        label = key_label(keys.get(decl.keymap_id, decl.keys))
        parts += ["\n", (f"  {label:<12}", "bold"), decl.description, (f"  [{decl.keymap_id}]", "$text-muted")]
    parts += ["\n", (f"  {'^p':<12}", "bold"), "command palette: every action by name"]
    parts += ["\n", (f"  {'tab':<12}", "bold"), "move the focus (shift+tab: back), on every screen"]
    parts += ["\n\n", ("Say box", "bold $accent")]
    parts += ["\n", (f"  {'text':<18}", "bold"), "is spoken into the call (Speaking API /say)"]
    parts += ["\n", (f"  {'//text':<18}", "bold"), "says a line that starts with a slash"]
    for decl in slash_actions(state):
        for name in decl.slash:
            usage = name + (f" {decl.arg}" if decl.arg else "")
            parts += ["\n", (f"  {usage:<18}", "bold"), decl.description]
    if notes:
        parts += ["\n\n", ("Files", "bold $accent")]
        for name, value in notes.items():
            parts += ["\n", (f"  {name:<18}", "bold"), value]
    return safe.assemble(*parts)


class HelpScreen(ModalScreen[None]):
    CSS_PATH = HERE / "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "close", "Close", id="help_close", tooltip="Close the help"),
    ]

    def __init__(self, keys: Mapping[str, str], state: ActionState, *, notes: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.keys = dict(keys)
        self.state = state
        self.notes = dict(notes or {})

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Label("voipbin-tui help  ·  Esc closes", id="help-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(help_content(self.keys, self.state, notes=self.notes), id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)
