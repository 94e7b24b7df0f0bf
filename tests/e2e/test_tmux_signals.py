"""SIGTERM (a `kill`) and SIGHUP (an SSH drop) end the console like "Leave running & quit" does."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_tmux import Terminal, needs_tmux

pytestmark = pytest.mark.e2e

ACCESSKEY = "vb_e2esignals0123456789"


@pytest.fixture
def standalone_sandbox() -> Iterator[str]:
    """A sandbox in its own process, so that it outlives the console and can be asked what was left."""
    exe = Path(sys.executable).parent / "voipbin-tui"
    proc = subprocess.Popen(
        [str(exe), "sandbox", "--port", "0", "--speed", "10", "--accesskey", ACCESSKEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        api_url = ""
        deadline = time.monotonic() + 20
        while not api_url and time.monotonic() < deadline:
            line = proc.stdout.readline()
            found = re.search(r"REST base\s+(\S+)", line)
            if found:
                api_url = found.group(1)
        assert api_url, "the standalone sandbox did not print its REST base"
        yield api_url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def console_pid(term: Terminal) -> int:
    shell = int(term.tmux("display-message", "-p", "-t", term.session, "#{pane_pid}").stdout.strip())
    children = subprocess.run(["pgrep", "-P", str(shell)], capture_output=True, text=True).stdout.split()
    assert children, "the console is not running in the pane"
    return int(children[0])


def speakings(api_url: str) -> list[dict[str, object]]:
    reply = httpx.get(f"{api_url}/speakings", params={"accesskey": ACCESSKEY, "page_size": 100}, timeout=10)
    reply.raise_for_status()
    result: list[dict[str, object]] = reply.json()["result"]
    return result


def calls(api_url: str) -> list[dict[str, object]]:
    reply = httpx.get(f"{api_url}/calls", params={"accesskey": ACCESSKEY, "page_size": 100}, timeout=10)
    reply.raise_for_status()
    result: list[dict[str, object]] = reply.json()["result"]
    return result


@needs_tmux
@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP"])
def test_a_signal_leaves_the_call_running_and_cleans_up(how: str, tmp_path: Path, standalone_sandbox: str) -> None:
    exe = Path(sys.executable).parent / "voipbin-tui"
    home = tmp_path / "home"
    home.mkdir()
    state = home / ".local" / "state"
    exit_file = tmp_path / "exit-status"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(state),
        "LANG": "C.UTF-8",
        "TERM": "xterm-256color",
        "VOIPBIN_ACCESSKEY": ACCESSKEY,
    }
    command = (
        f"{shlex.quote(str(exe))} --api-url {shlex.quote(standalone_sandbox)} --dial;"
        f" echo EXIT=$? > {shlex.quote(str(exit_file))}; sleep 30"
    )
    term = Terminal(env)
    exit_text = ""
    try:
        term.start(f"sh -c {shlex.quote(command)}")
        term.wait_for(lambda s: "speaking active" in s, "the speaking stream", timeout=40)
        pid = console_pid(term)
        if how == "SIGTERM":
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 20
            while not exit_file.exists():
                assert time.monotonic() < deadline, f"the console did not exit on SIGTERM:\n{term.screen()}"
                time.sleep(0.1)
            time.sleep(0.3)
            left = [line for line in term.screen().splitlines() if line.strip()]
            # The alternate screen was left: nothing of the console remains on the terminal but the one
            # line it prints on the way out (the record, the call's full id, whether it still runs).
            assert left, "the console left no exit line"
            assert left[0].startswith("voipbin-tui: record "), f"the terminal was not restored: {left}"
            exit_text = "".join(left)
            assert "still running on VoIPBIN" in exit_text, exit_text
            assert exit_file.read_text().strip() == "EXIT=0"
        else:
            term.close()  # the terminal goes away, as on an SSH drop: the pane's processes get SIGHUP
            deadline = time.monotonic() + 20
            while True:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                assert time.monotonic() < deadline, "the console did not exit on SIGHUP"
                time.sleep(0.1)
    finally:
        term.close()

    # The call is left running (the user did not ask to hang up) ...
    live = [c for c in calls(standalone_sandbox) if c.get("status") not in ("hangup", "canceling")]
    assert live, "the call was hung up; a signal must leave it running"
    if how == "SIGTERM":
        assert f"call {live[0]['id']}" in exit_text, exit_text
    # ... but the speaking stream we opened is stopped and deleted, as VoIPBIN never stops one itself.
    # (A deleted stream no longer lists; one left behind would list as "active".)
    streams = speakings(standalone_sandbox)
    assert all(s.get("status") != "active" for s in streams), streams
    records = list(state.rglob("session-*.jsonl"))
    assert len(records) == 1
    if how == "SIGTERM":
        assert str(records[0]) in exit_text, exit_text
    entries = [json.loads(line) for line in records[0].read_text().splitlines()]
    requests = [(e.get("method"), str(e.get("path", e.get("url", "")))) for e in entries if e["type"] == "request"]
    assert any(m == "POST" and "/speakings" in p for m, p in requests), requests
    assert any(m == "DELETE" and "/speakings/" in p for m, p in requests), requests
    last = entries[-1]
    assert last["type"] == "end", f"the record has no end: {last}"
    logs = "\n".join(p.read_text(errors="replace") for p in state.rglob("*.log"))
    assert f"{how} received" in logs
    assert "Traceback" not in logs
