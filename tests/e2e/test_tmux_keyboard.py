"""A keyboard-only walk through the installed console in tmux: the dial form by Tab, dial, say, flush, find,
copy the call id (OSC 52, read back from tmux's own clipboard buffer), the quit dialog's safe default,
hang up, quit."""

from __future__ import annotations

import re
import shlex
import time
from pathlib import Path

import pytest

from tests.e2e.test_tmux import Terminal, console_exe, flat, isolated_env, needs_tmux

pytestmark = pytest.mark.e2e

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def in_a_box(text: str, screen: str) -> bool:
    """``text`` is the value of an input box on the screen (a box's rows are framed by ▊ … ▎)."""
    return any(row.lstrip().startswith("▊") and text in row for row in screen.splitlines())


@needs_tmux
def test_keyboard_only_walk(tmp_path: Path) -> None:
    exe = console_exe()
    exit_file = tmp_path / "exit-status"
    home = tmp_path / "home"
    env = isolated_env(home)
    command = f"{shlex.quote(str(exe))}; echo EXIT=$? > {shlex.quote(str(exit_file))}; sleep 60"
    term = Terminal(env)
    try:
        term.start(f"sh -c {shlex.quote(command)}")
        # tmux keeps what an application copies with OSC 52 as a paste buffer when set-clipboard is on.
        term.tmux("set-option", "-s", "set-clipboard", "on")
        term.wait_for(lambda s: "New call" in s and "Greeting" in s, "the dial form")

        # Destination (focused) → its extension picker → Language → the transcribe provider → Greeting:
        # typing replaces the value. (A field added to the form changes the count; the check below says so.)
        time.sleep(1.0)  # the form is drawn before its pickers have loaded and the focus has settled
        for _ in range(4):
            term.send("Tab")
            time.sleep(0.2)
        term.send("Walking by keyboard only.", literal=True)
        screen = term.wait_for(lambda s: "Walking by keyboard only." in s, "the typed greeting", timeout=10)
        greeting_row = next(line for line in screen.splitlines() if "Walking by keyboard only." in line)
        assert "Greeting" in greeting_row, f"Tab did not reach the Greeting field:\n{screen}"
        term.send("Enter")  # Enter in any field dials
        term.wait_for(lambda s: "progressing" in s, "the call to be answered")
        term.wait_for(lambda s: "Walking by keyboard only." in flat(s) and "out" in s, "our greeting, spoken")
        term.wait_for(lambda s: "speaking active" in s, "the speaking stream")

        term.send("First line from the keyboard", literal=True)
        term.send("Enter")
        term.wait_for(lambda s: "[heard" in s, "the first line to be heard")

        # Flush: a long line is cut while it is being spoken.
        term.send("This long second line keeps the speaking stream busy for a good while " * 3, literal=True)
        term.send("Enter")
        term.wait_for(lambda s: "SAY This long second line" in s, "the second SAY line")
        term.send("F2")
        term.wait_for(lambda s: "[flushed" in s or "flushed" in s, "the flush")

        # Find: ctrl+f opens the find box; typing searches; Esc closes it and leaves the cursor on the match.
        term.send("C-f")
        term.wait_for(lambda s: "Find in the transcript" in s, "the find box")
        term.send("from the keyboard", literal=True)
        # The typed query replaces the placeholder, so the box is told by its text; and Esc goes only once
        # the query is in and the next key only once the box has closed: a key right behind a lone Esc
        # reads as Alt+key in any terminal.
        term.wait_for(lambda s: in_a_box("from the keyboard", s), "the query in the find box")
        term.send("Escape")
        term.wait_for(lambda s: not in_a_box("from the keyboard", s), "the find box to close")
        term.send("C-l")  # copy the selected line: the match
        term.wait_for(lambda s: "copied the line" in s, "the copied line")
        buffer = term.tmux("show-buffer", check=False).stdout
        assert "SAY First line from the keyboard" in buffer or "out First line from the keyboard" in buffer, buffer

        # Copy the call id: the full id reaches the terminal's clipboard.
        term.send("C-y")
        screen = term.wait_for(lambda s: "copied the call id" in flat(s), "the copied id notice")
        buffer = term.tmux("show-buffer", check=False).stdout.strip()
        assert UUID.fullmatch(buffer), f"the clipboard holds {buffer!r}"

        call_id = buffer
        # Quit while live: the dialog's default is the safe one, so Enter cancels.
        term.send("C-q")
        term.wait_for(lambda s: "Quit while the call is live?" in s, "the quit dialog")
        term.send("Enter")
        term.wait_for(lambda s: "Quit while the call is live?" not in s, "the dialog to close")
        time.sleep(0.5)
        assert not exit_file.exists(), "Enter on the quit dialog's default must not quit"

        term.send("F8")
        term.wait_for(lambda s: "Call ended" in s, "the call summary")

        # Attach by prefix: the ended call again, by the first 8 characters of the id we copied. The
        # attached session writes a record of its own, so a second record file shows it took.
        records = home / ".local" / "state" / "voipbin-tui" / "sessions"
        assert len(list(records.glob("session-*.jsonl"))) == 1
        term.send(f"/attach {call_id[:8]}", literal=True)
        term.send("Enter")
        deadline = time.monotonic() + 15
        while len(list(records.glob("session-*.jsonl"))) < 2:
            screen = term.screen()
            assert "cannot attach" not in screen, f"attach by prefix was refused:\n{screen}"
            assert time.monotonic() < deadline, f"no session attached by prefix; the screen:\n{screen}"
            time.sleep(0.1)
        term.wait_for(lambda s: f"call {call_id[:8]}" in s and "/attach" not in s, "the attached call on screen")

        term.send("C-q")
        deadline = time.monotonic() + 20
        while not exit_file.exists():
            assert time.monotonic() < deadline, f"the console did not exit; the screen:\n{term.screen()}"
            time.sleep(0.1)
        time.sleep(0.2)
        assert exit_file.read_text().strip() == "EXIT=0"
    finally:
        term.close()
    for text in term.seen:
        assert "Traceback" not in text
