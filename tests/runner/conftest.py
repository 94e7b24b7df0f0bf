"""Helpers for the runner's tests: the installed command, small scenario files on a fast sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "scenarios"


def command() -> str:
    return str(Path(sys.executable).with_name("voipbin-tui"))


# The runner's processes load only the plugins they need: the suite's own (Textual snapshots, hypothesis…)
# would make every start several times slower. The front names its plugins itself then.
FAST_START = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


def run_cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [command(), "test", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **FAST_START},
    )


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


# A short call on a fast sandbox: the greeting's two sentences arrive as `out` transcripts.
FAST_CALL = """
sandbox: {speed: 20, random_seed: 7, caller_script: []}
call:
  actions:
    - transcribe_start: {language: en-US}
    - talk: {text: "Hello. This is the scripted test."}
    - sleep: 60s
"""


def scenario(name: str, steps: str, *, head: str = FAST_CALL, checks: str = "") -> str:
    body = f"version: 1\nname: {name}\n" + textwrap.dedent(head).strip() + "\nsteps:\n"
    body += textwrap.indent(textwrap.dedent(steps).strip(), "  ") + "\n"
    if checks:
        body += "checks:\n" + textwrap.indent(textwrap.dedent(checks).strip(), "  ") + "\n"
    return body
