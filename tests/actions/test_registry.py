"""The action registry: one declaration per action, and every surface derived from it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tui.actions import ACTIONS, BY_ID, ActionContext, ActionError, ActionState
from tui.actions.keys import check_keymap, effective_keys, how_to, key_problem
from tui.actions.operations import parse_faults
from tui.actions.registry import BY_SLASH, action
from tui.actions.slash import command_for
from tui.config import check_config
from tui.ui.commands import palette_entries
from tui.ui.keymap import bindings
from tui.ui.screens.help import help_content

# The runner's step verbs and the phone's actions are these ids; renaming one breaks scenario files.
VERBS = {
    "say",
    "flush",
    "stop_speaking",
    "open_speaking",
    "resend",
    "hangup",
    "attach",
    "new_call",
    "export",
    "phone.answer",
    "phone.reject",
    "phone.hangup",
    "phone.say",
    "sandbox.fault",
}
EVERYTHING = ActionState(phase="live", is_live=True, has_phone=True, has_sandbox=True)


def test_the_verbs_are_declared_with_an_operation() -> None:
    assert set(BY_ID) >= VERBS
    for verb in VERBS:
        assert BY_ID[verb].run is not None, verb
    assert len(BY_ID) == len(ACTIONS), "ids are unique"


def test_every_action_appears_in_keys_slash_commands_palette_and_help() -> None:
    keys = effective_keys({})
    bound = {b.id for b in bindings()}
    palette = {e.title for e in palette_entries(EVERYTHING, keys)}
    helped = help_content(keys, EVERYTHING).plain
    for decl in ACTIONS:
        if decl.keys and not decl.widget:
            assert decl.keymap_id in bound, decl.id
        if decl.keys:
            assert f"[{decl.keymap_id}]" in helped, decl.id
        for name in decl.slash:
            assert BY_SLASH[name[1:]] is decl
            assert name in helped, decl.id
        if decl.slash or (decl.keys and not decl.widget and decl.id not in ("scroll_up", "scroll_down")):
            assert decl.title in palette, decl.id
        assert decl.keys or decl.slash or decl.console or decl.id == "say", f"{decl.id} cannot be invoked"


def test_hints_follow_a_remapped_keymap() -> None:
    applied, problems = check_keymap({"new_call": "ctrl+n", "phone_answer": "ctrl+a"})
    assert problems == []
    keys = effective_keys(applied)
    assert how_to("new_call", keys) == "^n or /dial"
    entries = {e.title: e.help for e in palette_entries(EVERYTHING, keys)}
    assert "(^n or /dial)" in entries["New call"]
    assert "^a" in help_content(keys, EVERYTHING).plain


@pytest.mark.parametrize(
    ("keymap", "fragment"),
    [
        ({"nonsense": "f3"}, "nonsense: no such action"),
        ({"hangup": "ctrl+m"}, "ctrl+m is sent as another key"),
        ({"hangup": "tab"}, "moves the focus"),
        ({"hangup": "f 8"}, "is not a key name"),
        ({"hangup": ""}, "no key given"),
        ({"flush": "f8"}, "f8 is already hangup's key"),
    ],
)
def test_keymap_errors(keymap: dict[str, str], fragment: str) -> None:
    applied, problems = check_keymap(keymap)
    assert applied == {}, "an entry with an error is not applied"
    assert any(fragment in p for p in problems), problems
    assert effective_keys(applied)["hangup"] == "f8", "the default stays"


def test_dotted_ids_and_their_keymap_spelling_name_the_same_action() -> None:
    assert action("phone.answer") is action("phone_answer")
    applied, problems = check_keymap({"phone.answer": "ctrl+a"})
    assert (applied, problems) == ({"phone_answer": "ctrl+a"}, [])
    with pytest.raises(KeyError):
        action("no_such_action")


def test_key_names() -> None:
    for good in ("f8", "ctrl+t", "pageup", "ctrl+shift+f1", "question_mark", "?", "1"):
        assert key_problem(good) is None, good
    for bad in ("ctrl+h", "shift+tab", "two words", "ctrl+"):
        assert key_problem(bad) is not None, bad


def test_availability_hides_what_the_target_cannot_do_and_disables_what_must_wait() -> None:
    service = ActionState(phase="live", is_live=True)
    assert BY_ID["phone.answer"].availability(service) == "hidden"
    assert command_for("caller", service) is None
    assert command_for("caller", EVERYTHING) is BY_ID["phone.say"]
    idle = ActionState(has_phone=True, has_sandbox=True)
    assert BY_ID["flush"].availability(idle) == "disabled"
    assert BY_ID["hangup"].availability(ActionState(phase="dialing", is_live=True)) == "available"
    assert BY_ID["flush"].availability(ActionState(phase="dialing", is_live=True)) == "disabled"
    assert BY_ID["export"].availability(ActionState(phase="ended")) == "available"
    assert BY_ID["help"].availability(ActionState()) == "available"


def test_parse_faults() -> None:
    assert parse_faults("drop_websockets latency_ms=200 http_error_rate=0.5 frame_shape=bare reorder=false") == {
        "drop_websockets": True,
        "latency_ms": 200,
        "http_error_rate": 0.5,
        "frame_shape": "bare",
        "reorder": False,
    }
    assert parse_faults("") == {}
    with pytest.raises(ActionError):
        parse_faults("=3")


async def test_operations_say_what_is_missing() -> None:
    with pytest.raises(ActionError, match="no call") as info:
        await BY_ID["flush"].run(ActionContext(), None)  # type: ignore[misc]
    assert info.value.missing is not None
    with pytest.raises(ActionError, match="not the sandbox"):
        await BY_ID["phone.answer"].run(ActionContext(), None)  # type: ignore[misc]
    with pytest.raises(ActionError, match="needs the sandbox"):
        await BY_ID["sandbox.fault"].run(ActionContext(), {"drop_websockets": True})  # type: ignore[misc]
    with pytest.raises(ActionError, match="needs text"):
        await BY_ID["say"].run(ActionContext(), "  ")  # type: ignore[misc]


def test_config_check_reports_keymap_errors(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[keymap]\nnonsense = "f3"\nflush = "ctrl+m"\nexport = "f8"\n', encoding="utf-8")
    _, problems = check_config(cfg)
    assert any("nonsense: no such action" in p for p in problems)
    assert any("flush: ctrl+m" in p for p in problems)
    assert any("export: f8 is already hangup's key" in p for p in problems)
    good = tmp_path / "good.toml"
    good.write_text('[keymap]\nhangup = "ctrl+t"\nphone_answer = "ctrl+a"\n', encoding="utf-8")
    assert check_config(good)[1] == []


def test_the_registry_imports_no_textual_and_nothing_heavy() -> None:
    probe = (
        "import json, sys\nimport tui.actions, tui.actions.keys, tui.actions.slash, tui.actions.operations\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    loaded: list[Any] = json.loads(out.stdout)
    assert not {m.split(".")[0] for m in loaded} & {"textual", "pydantic", "httpx", "websockets", "rich"}
