"""Key bindings: one table with ids, default keys and descriptions; remapped from ``[keymap]``.

Defaults are F-keys because they survive SSH and tmux and are not used by the say box (an ``Input``
owns most ctrl+letter keys). Ctrl+h/i/j/m/[ are never used: terminals send them as backspace, tab,
newline, enter and escape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from textual.binding import Binding

# Keys a terminal cannot tell apart from another key (see the module docstring).
AMBIGUOUS_KEYS = frozenset({"ctrl+h", "ctrl+i", "ctrl+j", "ctrl+m", "ctrl+left_square_bracket", "ctrl+[", "ctrl+enter"})


@dataclass(frozen=True, slots=True)
class KeySpec:
    id: str
    keys: str
    action: str
    description: str
    tooltip: str
    show: bool = True
    priority: bool = False
    sandbox_only: bool = False
    slash: str | None = None


KEYS: tuple[KeySpec, ...] = (
    KeySpec("help", "f1", "help", "Help", "Keys and slash commands", slash="/help"),
    KeySpec("hangup", "f8", "hangup", "Hang up", "Hang up the call", slash="/hangup"),
    KeySpec("flush", "f2", "flush", "Flush", "Cut what is being spoken and clear the queue", slash="/flush"),
    KeySpec("stop_speaking", "f3", "stop_speaking", "Stop", "Stop the speaking stream", slash="/stop"),
    KeySpec("open_speaking", "f4", "open_speaking", "Speak", "Open a new speaking stream (after stop)", slash="/speak"),
    KeySpec("new_call", "f5", "new_call", "New call", "Open the dial form for a new call", slash="/dial"),
    KeySpec("toggle_log", "f6", "toggle_log", "Events", "Show or hide the raw event log", slash="/log"),
    KeySpec("export", "f7", "export", "Export", "Save the transcript as Markdown, JSONL and SRT", slash="/export"),
    KeySpec(
        "phone_answer",
        "f9",
        "phone_answer",
        "Answer",
        "The sandbox phone answers the call",
        sandbox_only=True,
        slash="/answer",
    ),
    KeySpec(
        "phone_reject",
        "f10",
        "phone_reject",
        "Reject",
        "The sandbox phone declines the call",
        sandbox_only=True,
        slash="/reject",
    ),
    KeySpec(
        "phone_hangup",
        "f11",
        "phone_hangup",
        "Phone hangs up",
        "The sandbox phone hangs up",
        sandbox_only=True,
        slash="/phonehangup",
    ),
    KeySpec(
        "resend", "f12", "resend", "Resend", "Say the last failed or flushed line again", show=False, slash="/resend"
    ),
    KeySpec("scroll_up", "pageup", "scroll_transcript(-1)", "Scroll up", "Scroll the transcript up a page", show=False),
    KeySpec(
        "scroll_down",
        "pagedown",
        "scroll_transcript(1)",
        "Scroll down",
        "Scroll the transcript down a page (at the end it follows new lines again)",
        show=False,
    ),
    KeySpec(
        "quit", "ctrl+q", "request_quit", "Quit", "Quit (asks first while a call is live)", priority=True, slash="/quit"
    ),
)

SPECS_BY_ID: dict[str, KeySpec] = {spec.id: spec for spec in KEYS}


def bindings() -> list[Binding]:
    return [
        Binding(
            spec.keys,
            spec.action,
            spec.description,
            show=spec.show,
            priority=spec.priority,
            tooltip=spec.tooltip,
            id=spec.id,
            key_display=_display(spec.keys),
        )
        for spec in KEYS
    ]


def _display(keys: str) -> str | None:
    first = keys.split(",")[0]
    return first.upper() if first.startswith("f") and first[1:].isdigit() else None


def check_keymap(keymap: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """Split a ``[keymap]`` table into what can be applied and warnings about the rest."""
    applied: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in keymap.items():
        if binding_id not in SPECS_BY_ID and binding_id not in ("history_prev", "history_next"):
            problems.append(f"[keymap] {binding_id}: no such binding (ids: {', '.join(sorted(SPECS_BY_ID))})")
            continue
        cleaned = ",".join(k.strip().lower() for k in str(keys).split(",") if k.strip())
        if not cleaned:
            problems.append(f"[keymap] {binding_id}: no key given")
            continue
        risky = [k for k in cleaned.split(",") if k in AMBIGUOUS_KEYS]
        if risky:
            problems.append(f"[keymap] {binding_id}: {', '.join(risky)} is sent as another key by most terminals")
        applied[binding_id] = cleaned
    return applied, problems


def effective_keys(keymap: Mapping[str, str], specs: Iterable[KeySpec] = KEYS) -> dict[str, str]:
    """Binding id → the keys in force (the remapped ones where ``[keymap]`` says so)."""
    return {spec.id: keymap.get(spec.id, spec.keys) for spec in specs}


def key_label(keys: str) -> str:
    """``f8,ctrl+x`` → ``F8/^x`` for hints on screen."""
    labels = []
    for key in keys.split(","):
        key = key.strip()
        if key.startswith("ctrl+"):
            labels.append("^" + key[5:])
        elif len(key) <= 3 and key.startswith("f") and key[1:].isdigit():
            labels.append(key.upper())
        else:
            labels.append(key)
    return "/".join(labels)
