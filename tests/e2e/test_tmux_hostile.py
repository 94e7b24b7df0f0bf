"""The installed console in a real terminal, fed hostile text: the raw bytes it writes to the terminal carry
no escape sequence from remote text (no OSC 52 clipboard write, no OSC 0 title, no screen clear)."""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

import pytest

from tests.e2e.test_tmux import Terminal, console_exe, flat, isolated_env, needs_tmux
from tests.hostile.corpus import CLEAR_SCREEN, OSC0_TITLE, OSC52_CLIPBOARD

pytestmark = pytest.mark.e2e

CALLER_SCRIPT = [
    f"clip {OSC52_CLIPBOARD} end",
    f"title {OSC0_TITLE} end",
    f"{CLEAR_SCREEN}enter password: now",
    "csi \x9b2J and [@click=app.quit]quit[/] and [/x]",
]


@needs_tmux
def test_no_remote_escape_sequence_reaches_the_terminal(tmp_path: Path) -> None:
    exe = console_exe()
    raw_file = tmp_path / "pane.raw"
    env = isolated_env(
        tmp_path / "home",
        VOIPBIN_SANDBOX__CALLER_DELAY="10",
        VOIPBIN_SANDBOX__CALLER_SCRIPT=json.dumps(CALLER_SCRIPT),
        VOIPBIN_SANDBOX__CUSTOMER_NAME=f"ACME {OSC0_TITLE}",
    )
    # The pane starts with a shell that waits for the pipe to be in place before the console runs, so
    # every byte the console writes is captured.
    go = tmp_path / "go"
    command = f"while [ ! -e {shlex.quote(str(go))} ]; do sleep 0.05; done; exec {shlex.quote(str(exe))} --dial"
    term = Terminal(env)
    try:
        term.start(f"sh -c {shlex.quote(command)}")
        term.tmux("pipe-pane", "-o", "-t", term.session, f"cat >> {shlex.quote(str(raw_file))}")
        go.touch()
        term.wait_for(lambda s: "SANDBOX" in s, "the SANDBOX banner")
        term.wait_for(lambda s: "progressing" in s, "the call to be answered")
        screen = term.wait_for(lambda s: "[@click=app.quit]quit[/]" in flat(s), "the last hostile caller line", 40)
        title = term.tmux("display-message", "-p", "-t", term.session, "#{pane_title}").stdout
        term.send("C-q")
        deadline = time.monotonic() + 20
        while "Quit while the call is live?" not in term.screen():
            assert time.monotonic() < deadline, "the quit question did not appear"
            time.sleep(0.1)
        term.send("h")
        time.sleep(0.5)
    finally:
        term.close()

    data = raw_file.read_bytes()
    assert len(data) > 1000, "the pipe captured the console's output"
    assert b"\x1b]52;" not in data, "no clipboard write"
    assert b"\x1b]0;pwned" not in data, "no title change"
    assert b"\x1b[2J\x1b[Henter password" not in data, "no screen clear from remote text"
    assert "\x9b".encode() not in data, "no C1 CSI"
    assert "pwned" not in title
    # What the caller said is on screen, visibly escaped.
    shown = flat(screen)
    assert "\\x1b]52;c;" in shown
    assert "\\x1b[2J\\x1b[Henter password" in shown
    assert "\\x9b2J" in shown
