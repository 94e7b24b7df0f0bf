"""Pure parts of the UI: line parsing, keymap checks, themes, formatting, and the import budget."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tui.actions.keys import check_keymap, effective_keys, key_label
from tui.actions.registry import ACTIONS, BY_ID, BY_SLASH, ActionState
from tui.actions.slash import parse_line
from tui.ui.commands import palette_entries
from tui.ui.console_actions import ConsoleActions
from tui.ui.format import duration, latency, lifetime, parse_sleep, sleep_text
from tui.ui.keymap import bindings
from tui.ui.reading_actions import ReadingActions
from tui.ui.theme import ANSI_THEME, DEFAULT_THEME, choose_theme


@pytest.mark.parametrize(
    ("typed", "kind", "text", "name", "arg"),
    [
        ("hello", "say", "hello", "", ""),
        ("  hello  ", "say", "hello", "", ""),
        ("", "empty", "", "", ""),
        ("   ", "empty", "", "", ""),
        ("/flush", "command", "/flush", "flush", ""),
        ("/Caller  I am here ", "command", "/Caller  I am here", "caller", "I am here"),
        ("//etc/passwd is a path", "say", "/etc/passwd is a path", "", ""),
        ("//", "say", "/", "", ""),
    ],
)
def test_parse_line(typed: str, kind: str, text: str, name: str, arg: str) -> None:
    parsed = parse_line(typed)
    assert (parsed.kind, parsed.text, parsed.name, parsed.arg) == (kind, text, name, arg)


def test_every_slash_command_has_an_action_or_an_argument() -> None:
    for name, decl in BY_SLASH.items():
        handled = any(hasattr(cls, "_console_" + decl.keymap_id) for cls in (ConsoleActions, ReadingActions))
        assert decl.run is not None or decl.console or handled or not decl.arg, name
    assert {
        "flush",
        "stop",
        "speak",
        "hangup",
        "dial",
        "export",
        "help",
        "caller",
        "resend",
        "log",
        "quit",
        "answer",
        "reject",
        "phonehangup",
        "attach",
        "fault",
    } <= set(BY_SLASH)


def test_bindings_have_ids_tooltips_and_safe_keys() -> None:
    made = bindings()
    keyed = [a for a in ACTIONS if a.keys and not a.widget]
    assert len({b.id for b in made}) == len(made) == len(keyed)
    for binding in made:
        assert binding.id
        assert binding.tooltip
        assert binding.description
        for key in binding.key.split(","):
            assert key not in ("ctrl+h", "ctrl+i", "ctrl+j", "ctrl+m", "ctrl+enter", "ctrl+left_square_bracket")
    assert BY_ID["quit"].keys == "ctrl+q"
    assert BY_ID["help"].keys == "f1,question_mark"


def test_check_keymap() -> None:
    applied, problems = check_keymap({"hangup": " F8 , ctrl+x", "flush": "ctrl+m", "bogus": "f2", "stop_speaking": ""})
    assert applied == {"hangup": "f8,ctrl+x"}
    assert any("bogus" in p for p in problems)
    assert any("ctrl+m" in p for p in problems), "a key terminals send as another is an error, not applied"
    assert any("stop_speaking" in p for p in problems)
    keys = effective_keys(applied)
    assert keys["hangup"] == "f8,ctrl+x"
    assert keys["help"] == "f1,question_mark"
    assert key_label(keys["help"]) == "F1/?"
    assert key_label(keys["hangup"]) == "F8/^x"


def test_palette_entries_follow_the_mode() -> None:
    sandbox = {e.title for e in palette_entries(ActionState(has_phone=True, has_sandbox=True), effective_keys({}))}
    service = {e.title for e in palette_entries(ActionState(), effective_keys({}))}
    assert {"Answer", "Reject", "Phone hangs up", "Caller line", "Sandbox fault"} <= sandbox
    assert not {"Answer", "Reject", "Phone hangs up", "Caller line", "Sandbox fault"} & service
    assert {"Hang up", "Flush", "New call", "Export", "Quit"} <= service


@pytest.mark.parametrize(
    ("requested", "colorterm", "expected", "warns"),
    [
        (None, "", ANSI_THEME, False),
        ("auto", "truecolor", DEFAULT_THEME, False),
        ("auto", "24bit", DEFAULT_THEME, False),
        ("ansi", "truecolor", ANSI_THEME, False),
        ("nord", "", "nord", False),
        ("no-such-theme", "truecolor", DEFAULT_THEME, True),
    ],
)
def test_choose_theme(requested: str | None, colorterm: str, expected: str, warns: bool) -> None:
    theme, problem = choose_theme(requested, {"COLORTERM": colorterm}, {"nord", DEFAULT_THEME, ANSI_THEME})
    assert theme == expected
    assert (problem is not None) == warns


def test_formatting() -> None:
    assert duration(None) == "—"
    assert duration(5.9) == "0:05"
    assert duration(3725) == "1:02:05"
    assert latency(640.4) == "640 ms"
    assert latency(1530) == "1.5 s"
    assert lifetime(None) == "no expiry"
    assert lifetime(-1) == "expired"
    assert lifetime(6 * 86400 + 23 * 3600 + 5) == "6d 23h"
    assert lifetime(3 * 3600 + 5 * 60) == "3h 05m"
    assert parse_sleep("600") == 600_000
    assert parse_sleep("600s") == 600_000
    assert parse_sleep("10m") == 600_000
    assert parse_sleep("600000") == 600_000
    assert parse_sleep("1500ms") == 1500
    with pytest.raises(ValueError, match="cannot read sleep"):
        parse_sleep("ten minutes")
    for ms in (600_000, 45_000, 1500, 3_600_000):
        assert parse_sleep(sleep_text(ms)) == ms


def test_the_app_module_imports_only_textual_and_the_standard_library() -> None:
    """The first frame must not wait for pydantic, httpx, websockets or the sandbox server."""
    probe = "import json, sys\nimport tui.ui.app\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    loaded = json.loads(out.stdout)
    heavy = {m.split(".")[0] for m in loaded} & {
        "pydantic",
        "pydantic_settings",
        "httpx",
        "websockets",
        "uvicorn",
        "starlette",
    }
    assert heavy == set()
    assert not [m for m in loaded if m.startswith(("tui.session", "tui.config", "tui.sandbox", "tui.runtime"))]
