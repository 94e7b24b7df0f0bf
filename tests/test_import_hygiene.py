"""The architecture's import rules (design §3), checked in fresh interpreters."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
import {module}
print(json.dumps(sorted(sys.modules)))
"""


def loaded_modules(module: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)], capture_output=True, text=True, check=True, timeout=60
    )
    loaded: list[str] = json.loads(out.stdout)
    return loaded


@pytest.mark.parametrize(
    "module",
    [
        "tui.voipbin",
        "tui.voipbin.rest",
        "tui.voipbin.stream",
        "tui.session",
        "tui.session.call_session",
        "tui.session.watch",
        "tui.sandbox",
        "tui.sandbox.server",
        "tui.config",
        "tui.watchcmd",
        "tui.phonecmd",
        "tui.phone.runner",
        "tui.phone.baresip_engine",
        "tui.phone.pjsua2_engine",
        "tui.runner.live",
        "tui.runner.replay",
        "tui.runner.plugin",
        "tui.runner.cli",
    ],
)
def test_no_textual_below_the_ui(module: str) -> None:
    mods = loaded_modules(module)
    assert not [m for m in mods if m == "textual" or m.startswith("textual.")]


def test_sandbox_imports_nothing_else_from_tui() -> None:
    mods = loaded_modules("tui.sandbox.server")
    others = [m for m in mods if m.startswith("tui.") and not m.startswith("tui.sandbox")]
    assert others == []


def test_config_does_not_load_servers_or_network_stacks() -> None:
    mods = loaded_modules("tui.config")
    heavy = [m for m in mods if m.split(".")[0] in ("starlette", "uvicorn", "httpx", "websockets", "textual")]
    assert heavy == []


@pytest.mark.parametrize(
    "module", ["tui.cli", "tui.options", "tui.configfile", "tui.console", "tui.runtime", "tui.wiring", "tui.actions"]
)
def test_start_up_path_is_light(module: str) -> None:
    """What runs before the first paint imports no pydantic, HTTP, WebSocket or server stack."""
    mods = loaded_modules(module)
    heavy = ("pydantic", "pydantic_settings", "httpx", "websockets", "starlette", "uvicorn", "textual")
    assert not [m for m in mods if m.split(".")[0] in heavy]


def test_phone_engines_load_only_when_chosen() -> None:
    """The softphone's native stacks are heavy and optional: importing the command loads neither."""
    mods = loaded_modules("tui.phonecmd")
    assert not [m for m in mods if m.split(".")[0] in ("baresip", "pjsua2", "espeakng_loader", "faster_whisper")]
