"""The say box's language: text to say, ``/command [arg]``, or ``//text`` to say a line starting with ``/``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tui.actions.registry import ACTIONS, BY_SLASH, ActionDecl, ActionState


@dataclass(frozen=True, slots=True)
class ParsedLine:
    kind: Literal["empty", "say", "command"]
    text: str = ""
    name: str = ""
    arg: str = ""


def parse_line(raw: str) -> ParsedLine:
    """What the user typed: text to say, a ``/command [arg]``, or nothing. ``//x`` says ``/x``."""
    text = raw.strip()
    if not text:
        return ParsedLine("empty")
    if text.startswith("//"):
        return ParsedLine("say", text[1:])
    if text.startswith("/"):
        name, _, arg = text[1:].partition(" ")
        return ParsedLine("command", text, name.lower(), arg.strip())
    return ParsedLine("say", text)


def command_for(name: str, state: ActionState) -> ActionDecl | None:
    """The action behind ``/name``, or None when there is none (or it can never run on this target)."""
    decl = BY_SLASH.get(name)
    if decl is None or decl.availability(state) == "hidden":
        return None
    return decl


def slash_actions(state: ActionState) -> list[ActionDecl]:
    """The actions with a slash command that this target can run, in declaration order."""
    return [a for a in ACTIONS if a.slash and a.availability(state) != "hidden"]
