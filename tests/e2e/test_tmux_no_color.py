"""NO_COLOR over a plain SSH-like terminal (TERM=xterm, no COLORTERM): the terminal's own colours, not black."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

from tests.e2e.test_tmux import Terminal, needs_tmux

pytestmark = pytest.mark.e2e

# SGR parameters that set a palette colour (30-37/40-47, 90-97/100-107, 38;5;N / 48;5;N, truecolor).
_COLOUR = re.compile(r"\x1b\[([0-9;]*)m")


def colour_codes(raw: str) -> set[str]:
    found: set[str] = set()
    for params in _COLOUR.findall(raw):
        for code in params.split(";"):
            if code and (30 <= int(code) <= 38 or 40 <= int(code) <= 48 or 90 <= int(code) <= 107):
                found.add(code)
    return found


@needs_tmux
def test_no_color_draws_in_the_terminals_default_colours(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "voipbin-tui"
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "LANG": "C.UTF-8",
        "TERM": "xterm",
        "NO_COLOR": "1",
    }
    term = Terminal(env)
    try:
        term.start(f"sh -c {shlex.quote(shlex.quote(str(exe)) + '; sleep 30')}")
        term.wait_for(lambda s: "New call" in s and "Destination" in s, "the dial form")
        raw = term.tmux("capture-pane", "-p", "-e", "-t", term.session).stdout
        term.send("Escape")
        term.wait_for(lambda s: "SANDBOX" in s, "the header")
        raw += term.tmux("capture-pane", "-p", "-e", "-t", term.session).stdout
    finally:
        term.close()
    assert "New call" in raw
    # Before the fix every run was drawn in palette black (30) on black (40).
    assert colour_codes(raw) == set(), f"colours drawn under NO_COLOR: {sorted(colour_codes(raw))}"
