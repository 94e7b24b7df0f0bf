"""Keys of the declared actions: ``[keymap]`` validation, the keys in force, and labels for hints.

Defaults are F-keys because they survive SSH and tmux and are not used by the say box (an ``Input``
owns most ctrl+letter keys). Ctrl+h/i/j/m/[ are never usable: terminals send them as backspace, tab,
newline, enter and escape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from tui.actions.registry import ACTIONS, BY_ID, BY_KEYMAP_ID, ActionDecl

# Keys a terminal cannot tell apart from another key (see the module docstring).
AMBIGUOUS_KEYS = frozenset({"ctrl+h", "ctrl+i", "ctrl+j", "ctrl+m", "ctrl+left_square_bracket", "ctrl+[", "ctrl+enter"})
# Focus moves belong to Textual on every screen; an action may not take them.
RESERVED_KEYS = frozenset({"tab", "shift+tab"})
# Textual's names of printable keys, shown as the character itself.
KEY_SYMBOLS = {"question_mark": "?", "slash": "/", "exclamation_mark": "!", "full_stop": "."}
_KEY = re.compile(r"^(?:(?:ctrl|shift|alt|meta|super|hyper)\+)*(?:[a-z][a-z0-9_]*|[0-9]|[^\sa-z0-9+,])$")


def _clean(keys: object) -> str:
    return ",".join(k.strip().lower() for k in str(keys).split(",") if k.strip())


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot be bound, or None."""
    if key in AMBIGUOUS_KEYS:
        return f"{key} is sent as another key by most terminals"
    if key in RESERVED_KEYS:
        return f"{key} moves the focus and cannot be remapped"
    if not _KEY.match(key):
        return f"{key!r} is not a key name (examples: f8, ctrl+t, pageup)"
    return None


def check_keymap(keymap: Mapping[str, object]) -> tuple[dict[str, str], list[str]]:
    """Split a ``[keymap]`` table into what can be applied and the errors about the rest.

    Errors: an unknown action id, a missing or unusable key, a key that two actions would share. An
    entry with an error is not applied (the action keeps its default keys), so nothing is lost silently.
    """
    applied: dict[str, str] = {}
    problems: list[str] = []
    for given, raw in keymap.items():
        decl = BY_KEYMAP_ID.get(given) or BY_ID.get(given)
        if decl is None or not decl.keys:
            ids = ", ".join(a.keymap_id for a in ACTIONS if a.keys)
            problems.append(f"[keymap] {given}: no such action (ids: {ids})")
            continue
        cleaned = _clean(raw)
        if not cleaned:
            problems.append(f"[keymap] {given}: no key given")
            continue
        bad = [p for p in (key_problem(k) for k in cleaned.split(",")) if p]
        if bad:
            problems.append(f"[keymap] {given}: " + "; ".join(bad))
            continue
        applied[decl.keymap_id] = cleaned
    problems += _drop_clashes(applied)
    return applied, problems


def _drop_clashes(applied: dict[str, str]) -> list[str]:
    problems: list[str] = []
    while True:
        owners: dict[str, list[str]] = {}
        for keymap_id, keys in effective_keys(applied).items():
            for key in keys.split(","):
                owners.setdefault(key, []).append(keymap_id)
        clashes = {key: ids for key, ids in owners.items() if len(ids) > 1}
        dropped = False
        for key, ids in clashes.items():
            for keymap_id in ids:
                if keymap_id in applied:
                    others = " and ".join(i for i in ids if i != keymap_id)
                    problems.append(f"[keymap] {keymap_id}: {key} is already {others}'s key; pick another")
                    del applied[keymap_id]
                    dropped = True
        if not dropped:
            return problems


def effective_keys(keymap: Mapping[str, str], actions: tuple[ActionDecl, ...] = ACTIONS) -> dict[str, str]:
    """``[keymap]`` id → the keys in force (the remapped ones where ``keymap`` says so)."""
    return {a.keymap_id: keymap.get(a.keymap_id, a.keys) for a in actions if a.keys}


def key_label(keys: str) -> str:
    """``f8,ctrl+x`` → ``F8/^x`` for hints on screen."""
    labels = []
    for key in keys.split(","):
        key = key.strip()
        if key.startswith("ctrl+"):
            labels.append("^" + key[5:])
        elif len(key) <= 3 and key.startswith("f") and key[1:].isdigit():
            labels.append(key.upper())
        elif key in KEY_SYMBOLS:
            labels.append(KEY_SYMBOLS[key])
        else:
            labels.append(key)
    return "/".join(labels)


def key_display(keys: str) -> str | None:
    """What the footer shows for an F-key binding (``F8``); None lets Textual decide."""
    first = keys.split(",")[0]
    return first.upper() if first.startswith("f") and first[1:].isdigit() else None


def how_to(action_id: str, keys: Mapping[str, str]) -> str:
    """``F5 or /dial``: the way to invoke an action, as every hint on screen names it."""
    decl = BY_ID[action_id]
    ways = []
    bound = keys.get(decl.keymap_id, decl.keys)
    if bound:
        ways.append(key_label(bound))
    if decl.slash:
        ways.append(decl.slash[0])
    return " or ".join(ways)
