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

from tui.ui import safe
from tui.ui.commands import available_commands
from tui.ui.keymap import KEYS, key_label

STYLES = Path(__file__).resolve().parent.parent / "styles"


def help_content(keys: Mapping[str, str], *, sandbox: bool, notes: Mapping[str, str] | None = None) -> Content:
    parts: list[str | tuple[str, str]] = [
        ("Keys", "bold $accent"),
        ('   (remap in [keymap]: id = "key")', "$text-muted"),
    ]
    for spec in KEYS:
        if spec.sandbox_only and not sandbox:
            continue
        label = key_label(keys.get(spec.id, spec.keys))
        parts += ["\n", (f"  {label:<12}", "bold"), f"{spec.tooltip}", (f"  [{spec.id}]", "$text-muted")]
    parts += ["\n", (f"  {'↑ / ↓':<12}", "bold"), "say box history", ("  [history_prev, history_next]", "$text-muted")]
    parts += ["\n", (f"  {'^p':<12}", "bold"), "command palette: every action by name"]
    parts += ["\n\n", ("Say box", "bold $accent")]
    parts += ["\n", (f"  {'text':<18}", "bold"), "is spoken into the call (Speaking API /say)"]
    parts += ["\n", (f"  {'//text':<18}", "bold"), "says a line that starts with a slash"]
    for command in available_commands(sandbox):
        parts += ["\n", (f"  {command.usage:<18}", "bold"), command.help]
    if notes:
        parts += ["\n\n", ("Files", "bold $accent")]
        for name, value in notes.items():
            parts += ["\n", (f"  {name:<18}", "bold"), value]
    return safe.assemble(*parts)


class HelpScreen(ModalScreen[None]):
    CSS_PATH = STYLES / "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "close", "Close", id="help_close", tooltip="Close the help"),
    ]

    def __init__(self, keys: Mapping[str, str], *, sandbox: bool, notes: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.keys = dict(keys)
        self.sandbox = sandbox
        self.notes = dict(notes or {})

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Label("voipbin-tui help  ·  Esc closes", id="help-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(help_content(self.keys, sandbox=self.sandbox, notes=self.notes), id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)
