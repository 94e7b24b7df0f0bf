"""Textual key bindings made from the action registry (``tui.actions``); remapped by id from ``[keymap]``."""

from __future__ import annotations

from textual.binding import Binding

from tui.actions.keys import key_display
from tui.actions.registry import ACTIONS, ActionDecl

# Textual action name (``scroll_transcript``) -> the registry id of an action the console performs itself.
BY_CONSOLE_ACTION: dict[str, str] = {decl.console.partition("(")[0]: decl.id for decl in ACTIONS if decl.console}


def textual_action(decl: ActionDecl) -> str:
    """The Textual action string a binding runs: the console's own, or the one dispatcher ``act``."""
    return decl.console or f"act({decl.id!r})"


def bindings() -> list[Binding]:
    """The app's bindings: every keyed action except those the say box handles itself."""
    return [
        Binding(
            decl.keys,
            textual_action(decl),
            decl.title,
            show=decl.footer,
            priority=decl.priority,
            tooltip=decl.description,
            id=decl.keymap_id,
            key_display=key_display(decl.keys),
        )
        for decl in ACTIONS
        if decl.keys and not decl.widget
    ]


def widget_binding(action_id: str, textual: str) -> Binding:
    """A binding of an action the say box handles (its history keys), with the registry's keys and id."""
    from tui.actions.registry import BY_ID

    decl = BY_ID[action_id]
    return Binding(decl.keys, textual, decl.title, show=False, id=decl.keymap_id, tooltip=decl.description)
