"""Embedding API, import hygiene, settings, and the standalone command."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import websockets
from pydantic import ValidationError

from tests.sandbox.conftest import SandboxFactory, login, place_seed_call, wait_call_status
from tui.sandbox import EmbeddedSandbox, SandboxSettings
from tui.sandbox.standalone import parse_settings, settings_from_env

PACKAGE = Path(__file__).resolve().parents[2] / "tui" / "sandbox"
REPO = PACKAGE.parents[1]


def run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.strip()


def test_settings_import_is_light() -> None:
    out = run_python(
        "import sys, tui.sandbox, tui.sandbox.settings\n"
        "print(sorted(m for m in ('starlette', 'uvicorn', 'websockets', 'textual') if m in sys.modules))\n"
        "tui.sandbox.EmbeddedSandbox\n"
        "print('starlette' in sys.modules and 'uvicorn' in sys.modules)\n"
        "print(sorted(m for m in sys.modules if m.startswith('tui.') and not m.startswith('tui.sandbox')))"
    )
    assert out.splitlines() == ["[]", "True", "[]"]


def test_sandbox_imports_nothing_else_from_tui() -> None:
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith("textual"), (path.name, name)
                if name == "tui" or name.startswith("tui."):
                    assert name.startswith("tui.sandbox"), (path.name, name)


def test_settings_validation() -> None:
    assert SandboxSettings().caller_script == ["Hi, this is a test of the transcription feature."]
    defaults = SandboxSettings()
    assert (defaults.ring_delay, defaults.answer_delay, defaults.ping_interval, defaults.pong_timeout) == (
        1.0,
        3.0,
        10.0,
        60.0,
    )
    for bad in (
        {"speed": 0},
        {"nope": 1},
        {"accesskey": "abc"},
        {"customer_id": "x"},
        {"answer_mode": "maybe"},
        {"stt_final_delay_min": 2, "stt_final_delay_max": 1},
    ):
        with pytest.raises(ValidationError):
            SandboxSettings.model_validate(bad)
    for name, field in SandboxSettings.model_fields.items():
        assert field.description, name


def test_env_and_flags() -> None:
    env = {
        "VOIPBIN_SANDBOX__SPEED": "20",
        "VOIPBIN_SANDBOX__CALLER_SCRIPT": '["one", "two"]',
        "VOIPBIN_SANDBOX__TRANSCRIBE_SPEAKING": "false",
        "OTHER": "x",
    }
    settings = parse_settings(["--answer", "manual", "--speed", "5", "--frame-shape", "wrapped"], env)
    assert settings.speed == 5
    assert settings.answer_mode == "manual"
    assert settings.caller_script == ["one", "two"]
    assert settings.transcribe_speaking is False
    assert settings.frame_shape == "wrapped"
    assert parse_settings(["--no-caller-script"], {}).caller_script == []
    assert parse_settings(["--caller-line", "a", "--caller-line", "b"], {}).caller_script == ["a", "b"]
    with pytest.raises(ValueError, match="unknown"):
        settings_from_env({"VOIPBIN_SANDBOX__NOPE": "1"})


async def test_attributes_and_stats(sandbox: EmbeddedSandbox) -> None:
    assert sandbox.root_url.startswith("http://127.0.0.1:")
    assert sandbox.port > 0
    assert sandbox.api_url == sandbox.root_url + "/v1.0"
    assert sandbox.ws_url == f"ws://127.0.0.1:{sandbox.port}/v1.0/ws"
    assert sandbox.control_url == sandbox.root_url + "/_sandbox"
    assert sandbox.accesskey.startswith("vb_")
    assert (sandbox.username, sandbox.password) == ("admin@localhost", "admin@localhost")
    stats = sandbox.stats()
    for key in (
        "timer_lateness",
        "ping_lateness",
        "pings_sent",
        "pings_late",
        "pings_missed",
        "frames_sent",
        "frames_dropped",
        "live_calls",
    ):
        assert key in stats
    assert set(stats["timer_lateness"]) >= {"p50_ms", "p99_ms", "max_ms"}


async def test_stop_is_prompt_with_live_calls_and_sockets(start_sandbox: SandboxFactory) -> None:
    sandbox = await start_sandbox(speed=1.0)
    token = await login(sandbox)
    async with httpx.AsyncClient(base_url=sandbox.api_url, params={"token": token}) as api:
        sockets = [await websockets.connect(f"{sandbox.ws_url}?token={token}") for _ in range(5)]
        for ws in sockets:
            await ws.send(json.dumps({"type": "subscribe", "topics": [f"customer_id:{sandbox.customer_id}"]}))
        for _ in range(5):
            await place_seed_call(api)
        await asyncio.sleep(0.2)
        assert sandbox.stats()["live_calls"] == 5
        started = time.monotonic()
        await sandbox.stop()
        assert time.monotonic() - started < 1.0
        assert not sandbox.running
        for ws in sockets:
            assert isinstance(await _closed(ws), websockets.ConnectionClosed)
        with pytest.raises(httpx.TransportError):
            await api.get("/customer")
    await sandbox.stop()  # idempotent


async def test_busy_port_raises(sandbox: EmbeddedSandbox) -> None:
    other = EmbeddedSandbox(SandboxSettings(), port=sandbox.port)
    with pytest.raises(OSError):
        await other.start()


async def test_two_sandboxes_side_by_side(start_sandbox: SandboxFactory) -> None:
    a = await start_sandbox()
    b = await start_sandbox(customer_id="5e3f0d1c-2a1b-4c8d-9e0f-1a2b3c4d5e6f")
    assert a.port != b.port
    assert b.customer_id == "5e3f0d1c-2a1b-4c8d-9e0f-1a2b3c4d5e6f"
    token = await login(a)
    async with httpx.AsyncClient() as client:
        # A token of one sandbox is not valid on another (different signing keys).
        assert (await client.get(b.api_url + "/customer", params={"token": token})).status_code == 401


async def _closed(ws: websockets.ClientConnection) -> BaseException:
    """Read past frames sent before the stop until the connection reports its end."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout=2)
    except websockets.ConnectionClosed as exc:
        return exc


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_standalone_command(sig: signal.Signals) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "VOIPBIN_SANDBOX__SPEED": "30"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tui.sandbox",
        "--port",
        str(port),
        "--accesskey",
        "vb_standalone",
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    lines: list[str] = []
    try:
        while not any(line.startswith("Press Ctrl+C") for line in lines):
            raw = await asyncio.wait_for(proc.stdout.readline(), timeout=20)
            assert raw, "the command exited early"
            lines.append(raw.decode().strip())
        banner = "\n".join(lines)
        assert f"http://127.0.0.1:{port}/v1.0" in banner
        assert f"ws://127.0.0.1:{port}/v1.0/ws" in banner
        assert "vb_standalone" in banner
        assert "admin@localhost" in banner
        customer_line = next(line for line in lines if line.startswith("Customer id"))
        customer_id = customer_line.split()[-1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/v1.0") as api:
            customer = (await api.get("/customer", params={"accesskey": "vb_standalone"})).json()
            assert customer["id"] == customer_id
            api.params = httpx.QueryParams({"accesskey": "vb_standalone"})
            _, call_id = await place_seed_call(api)
            await wait_call_status(api, call_id, "progressing")
        proc.send_signal(sig)
        code = await asyncio.wait_for(proc.wait(), timeout=10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    stdout = (await proc.stdout.read()).decode()
    stderr = (await proc.stderr.read()).decode()
    assert code == 0
    assert "Traceback" not in stderr
    assert stderr == ""
    assert "Sandbox stopped." in stdout
