"""The installed ``voipbin-tui`` in a real terminal (tmux), with an empty HOME: dial, say, hang up, quit."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

TMUX = shutil.which("tmux")
WIDTH, HEIGHT = 100, 30
# Outside CI a machine without tmux skips these tests; in CI (which installs it) its absence is a failure.
needs_tmux = pytest.mark.skipif(
    TMUX is None and os.environ.get("CI", "").lower() not in ("true", "1"), reason="tmux is not installed"
)


def console_exe() -> Path:
    exe = Path(sys.executable).parent / "voipbin-tui"
    assert exe.exists(), f"the console script is not installed next to {sys.executable}"
    return exe


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """An empty HOME of its own, UTF-8, a 256-colour terminal, the sandbox at speed 10; ``extra`` on top."""
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "xterm-256color",
        "VOIPBIN_SANDBOX__SPEED": "10",
    }
    env.update(extra)
    return env


class Terminal:
    """One tmux server of our own (its own socket), so nothing leaks in from a user's tmux."""

    def __init__(self, env: dict[str, str]) -> None:
        assert TMUX is not None
        self.socket = f"vbtui-e2e-{uuid.uuid4().hex[:10]}"
        self.session = "console"
        self.env = env
        self.seen: list[str] = []

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert TMUX is not None
        return subprocess.run(
            [TMUX, "-L", self.socket, *args], env=self.env, capture_output=True, text=True, timeout=20, check=check
        )

    def start(self, command: str) -> None:
        self.tmux(
            "-f", "/dev/null", "new-session", "-d", "-s", self.session, "-x", str(WIDTH), "-y", str(HEIGHT), command
        )

    def screen(self) -> str:
        text = self.tmux("capture-pane", "-p", "-t", self.session, check=False).stdout
        self.seen.append(text)
        return text

    def wait_for(self, predicate: Callable[[str], bool], what: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; the screen:\n{text}")
            time.sleep(0.1)

    def send(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", self.session, *(["-l"] if literal else []), *keys)

    def quit_console(self, exit_file: Path, timeout: float = 20.0) -> str:
        """Ctrl+Q, answering "leave running" if the call is still live; the console's exit line."""
        self.send("C-q")
        deadline = time.monotonic() + timeout
        while not exit_file.exists():
            screen = self.screen()
            if "Quit while the call is live?" in screen:
                self.send("h")
            assert time.monotonic() < deadline, f"the console did not exit; the screen:\n{screen}"
            time.sleep(0.1)
        # The shell writes the file before its newline is flushed.
        time.sleep(0.2)
        return exit_file.read_text().strip()

    def close(self) -> None:
        self.tmux("kill-server", check=False)


def flat(text: str) -> str:
    return " ".join(text.split())


@needs_tmux
def test_installed_console_dials_says_hangs_up_and_quits(tmp_path: Path) -> None:
    exe = console_exe()
    exit_file = tmp_path / "exit-status"
    home = tmp_path / "home"
    env = isolated_env(
        home,
        # 30 s at speed 10 is five simulated minutes: past the transcription stream limit.
        VOIPBIN_SANDBOX__TRANSCRIBE_STREAM_LIMIT="0",
    )
    # Textual draws on stderr, so it stays the terminal; the pane outlives the app for a while so that
    # anything printed after the alternate screen is left can still be read.
    command = f"{shlex.quote(str(exe))} --dial; echo EXIT=$? > {shlex.quote(str(exit_file))}; sleep 60"
    term = Terminal(env)
    try:
        term.start(f"sh -c {shlex.quote(command)}")
        term.wait_for(lambda s: "SANDBOX" in s, "the SANDBOX banner")
        term.wait_for(lambda s: "progressing" in s, "the call to be answered")
        term.wait_for(lambda s: "real-time voice interaction test" in flat(s), "the greeting")
        term.wait_for(lambda s: "speaking active" in s, "the speaking stream")

        term.send("Hello from a real terminal", literal=True)
        term.wait_for(lambda s: "Hello from a real terminal" in s, "the typed line in the say box", timeout=10)
        term.send("Enter")
        term.wait_for(lambda s: "SAY Hello from a real terminal" in s, "the SAY line")
        term.wait_for(lambda s: "[heard" in s, "the line to be heard")

        term.send("/hangup", literal=True)
        term.send("Enter")
        term.wait_for(lambda s: "Call ended" in s, "the call summary")

        assert term.quit_console(exit_file) == "EXIT=0"
        final = term.screen()
    finally:
        term.close()

    for text in term.seen:
        assert "Traceback" not in text
    left = [line for line in final.splitlines() if line.strip()]
    # Clean but for the one exit line: the record, the call's full id, and that the call has ended.
    assert left, "the console printed no exit line"
    assert left[0].startswith("voipbin-tui: record "), f"the terminal is not left clean: {left}"
    exit_line = "".join(left)
    assert re.search(r"session-[0-9-]+\.jsonl · call [0-9a-f-]{36} · ended$", exit_line), exit_line
    logs = list((home / ".local" / "state").rglob("*.log"))
    assert logs, "the log file is in the user state dir"
    for log in logs:
        assert "Traceback" not in log.read_text(errors="replace"), f"a traceback was logged in {log}"
    records = list((home / ".local" / "state").rglob("session-*.jsonl"))
    assert records, "the session record is in the user state dir"
