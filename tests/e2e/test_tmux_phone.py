"""A whole quickstart with no human: ``voipbin-tui sandbox --sip`` standalone, the console with a ``[phone]``
table in tmux. The phone registers, the console dials its extension, the phone answers, hears the greeting
and speaks its line; the sandbox transcribes both sides; the console hangs up and quits."""

from __future__ import annotations

import queue
import re
import shlex
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_tmux import Terminal, console_exe, flat, isolated_env, needs_tmux
from tests.ui.conftest import write_config

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

EXT = "quickstart-phone"
GREETING = "Hello. This is the phone test."
LINE = "I would like a table for two."


class StandaloneSandbox:
    """``voipbin-tui sandbox --sip`` on OS-picked ports; its banner says where it is."""

    def __init__(self, env: dict[str, str]) -> None:
        env = {**env, "PYTHONUNBUFFERED": "1"}
        env.pop("VOIPBIN_SANDBOX__SPEED", None)  # the SIP side runs in real time anyway
        self.proc = subprocess.Popen(
            [str(console_exe()), "sandbox", "--sip", "--port", "0", "--sip-port", "0"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.banner: list[str] = []
        self.fields: dict[str, str] = {}
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put("")

    def read_banner(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not any(line.startswith("Press Ctrl+C") for line in self.banner):
            left = deadline - time.monotonic()
            assert left > 0, f"no sandbox banner within {timeout} s: {self.banner}"
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                continue
            assert line, f"the sandbox exited: {self.banner}"
            self.banner.append(line.strip())
        for line in self.banner:
            key, _, value = line.partition("  ")
            self.fields.setdefault(key.strip(), value.strip())
        domain = re.search(rf"username {EXT}\s+password (\S+)\s+domain (\S+)", "\n".join(self.banner))
        assert domain is not None, self.banner
        self.password, self.domain = domain.group(1), domain.group(2)
        tcp = re.search(r"sip:127\.0\.0\.1:(\d+);transport=tcp", "\n".join(self.banner))
        assert tcp is not None, self.banner
        self.sip_port = int(tcp.group(1))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[StandaloneSandbox]:
    box = StandaloneSandbox(isolated_env(tmp_path / "sandbox-home"))
    try:
        box.read_banner()
        yield box
    finally:
        box.stop()


@needs_tmux
def test_console_and_phone_run_the_quickstart_alone(tmp_path: Path, sandbox: StandaloneSandbox) -> None:
    home = tmp_path / "home"
    env = isolated_env(home)
    config = write_config(
        tmp_path / "config.toml",
        {
            "dial": {
                "destination": EXT,
                "destination_type": "extension",
                "greeting": GREETING,
                "sleep_ms": 120_000,
            },
            "phone": {
                "extension": EXT,
                "domain": sandbox.domain,
                "registrar": f"127.0.0.1:{sandbox.sip_port}",
                "transport": "tcp",
                "answer_delay": 0.2,
                "record": False,
                "lines": [LINE],
                "cue": "greeting",
            },
        },
    )
    api_url, accesskey = sandbox.fields["REST base"], sandbox.fields["Accesskey"]
    top = f'use_sandbox = "never"\napi_url = "{api_url}"\naccesskey = "{accesskey}"\n\n'
    config.write_text(top + config.read_text(), encoding="utf-8")
    env["VOIPBIN_PHONE__PASSWORD"] = sandbox.password
    exit_file = tmp_path / "exit-status"
    command = (
        f"{shlex.quote(str(console_exe()))} --config {shlex.quote(str(config))} --dial; "
        f"echo EXIT=$? > {shlex.quote(str(exit_file))}; sleep 60"
    )
    term = Terminal(env)
    try:
        term.start(f"sh -c {shlex.quote(command)}")
        # Rows are "HH:MM:SS dir text": the phone answered (the call progresses and the phone reports
        # what it heard), the greeting is an `out` transcript, the phone's spoken line an `in` segment.
        term.wait_for(lambda s: "● progressing" in s, "the phone to answer", timeout=60)
        term.wait_for(lambda s: " pho phone heard speech" in s, "the phone to hear the greeting", timeout=60)
        term.wait_for(lambda s: " out This is the phone test." in flat(s), "the greeting as `out`", timeout=60)
        segment = re.compile(r" in \[speech \d+\.\d s\]")
        term.wait_for(lambda s: segment.search(flat(s)) is not None, "the `in` segment", timeout=60)
        term.send("/hangup", literal=True)
        term.send("Enter")
        term.wait_for(lambda s: "Call ended" in s, "the call summary", timeout=60)
        assert term.quit_console(exit_file, timeout=30) == "EXIT=0"
    finally:
        term.close()
    for text in term.seen:
        assert "Traceback" not in text
    assert sandbox.password not in "".join(term.seen)
