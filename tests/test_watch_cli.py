"""`voipbin-tui watch` as a user runs it: a real process, JSON lines on stdout, SIGINT ends it with 0."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.session.conftest import wait_for
from tui.sandbox import EmbeddedSandbox, SandboxSettings
from tui.session.account import Account
from tui.session.call_session import CallSession
from tui.session.dial import DialRequest
from tui.voipbin.rest import VoipbinClient

pytestmark = pytest.mark.timeout(90)


def voipbin_tui() -> str:
    return str(Path(sys.executable).with_name("voipbin-tui"))


class Watch:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            text = raw.decode()
            self.raw.append(text)
            self.lines.append(json.loads(text))

    def kinds(self) -> list[str]:
        return [ln["kind"] for ln in self.lines]

    async def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(self.proc.wait(), 15)
        await self._reader
        assert self.proc.stderr is not None
        err = (await self.proc.stderr.read()).decode()
        return code, err


async def start_watch(args: list[str], env: dict[str, str]) -> Watch:
    proc = await asyncio.create_subprocess_exec(
        voipbin_tui(),
        "watch",
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    return Watch(proc)


async def one_call(sb: EmbeddedSandbox) -> None:
    account = Account(VoipbinClient(sb.api_url, accesskey=sb.accesskey))
    await account.start()
    s = CallSession(account)
    await s.dial(DialRequest())
    await wait_for(lambda: any(ln.direction == "in" for ln in s.book if ln.kind == "transcript"), timeout=20)
    await s.hangup()
    await wait_for(lambda: s.phase == "ended")
    await s.close()
    await account.close()


async def test_watch_prints_json_lines_and_exits_zero_on_sigint() -> None:
    async with EmbeddedSandbox(SandboxSettings(speed=20)) as sb:
        watch = await start_watch(["--api-url", sb.api_url], {"VOIPBIN_ACCESSKEY": sb.accesskey})
        await wait_for(lambda: "connection" in watch.kinds(), timeout=20, what="connected line")
        await one_call(sb)
        await wait_for(lambda: any(ln.get("event") == "transcribe_done" for ln in watch.lines), timeout=20)
        code, err = await watch.stop()
    assert code == 0
    assert err == ""
    kinds = set(watch.kinds())
    assert {"connection", "groupcall", "call", "transcribe", "transcript", "speech"} <= kinds
    events = [ln["event"] for ln in watch.lines if ln["kind"] == "call"]
    assert events[:1] == ["call_created"]
    assert "call_progressing" in events
    assert "call_hangup" in events
    ids = [ln["id"] for ln in watch.lines if ln["kind"] == "transcript"]
    assert len(ids) == len(set(ids))
    assert watch.lines[0] == {**watch.lines[0], "kind": "connection", "state": "connected"}
    assert watch.lines[-1]["kind"] == "connection"
    assert watch.lines[-1]["state"] == "closed"
    assert all(sb.accesskey not in line for line in watch.raw)


async def test_watch_logs_in_and_logs_in_again_after_401(tmp_path: Path) -> None:
    async with EmbeddedSandbox(SandboxSettings(speed=20)) as sb:
        watch = await start_watch(
            ["--api-url", sb.api_url, "--username", sb.username, "--password-env", "SANDBOX_PW"],
            {"SANDBOX_PW": sb.password},
        )
        await wait_for(lambda: "connection" in watch.kinds(), timeout=20)
        async with httpx.AsyncClient(base_url=sb.control_url) as control:
            (await control.post("/faults", json={"expire_tokens": True})).raise_for_status()
            (await control.post("/faults", json={"drop_websockets": True})).raise_for_status()
            # The reconnect needs a new token: the watcher logs in again and carries on.
            await wait_for(lambda: any(ln.get("state") == "reconnected" for ln in watch.lines), timeout=30)
            # The expiry also hit the seeded accesskey the test's own caller uses.
            (await control.post("/faults", json={})).raise_for_status()
        await one_call(sb)
        await wait_for(lambda: "transcript" in watch.kinds(), timeout=20)
        code, _err = await watch.stop()
    assert code == 0
    assert sb.password not in "".join(watch.raw)


async def test_wrong_accesskey_gives_one_clear_error() -> None:
    async with EmbeddedSandbox(SandboxSettings(speed=20)) as sb:
        watch = await start_watch(["--api-url", sb.api_url], {"VOIPBIN_ACCESSKEY": "vb_wrongwrongwrong"})
        code = await asyncio.wait_for(watch.proc.wait(), 20)
        assert watch.proc.stderr is not None
        err = (await watch.proc.stderr.read()).decode()
    assert code == 1
    assert err.count("\n") == 1
    assert "401" in err
    assert "vb_wrongwrongwrong" not in err
    assert "accesskey" in err.lower()
    assert err.count("check the accesskey") == 1, f"the 401 hint is said once: {err}"


def test_watch_without_credentials_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    from tui.cli import main

    assert main(["watch", "--api-url", "http://127.0.0.1:9/v1.0"]) == 2
    assert "no credentials" in capsys.readouterr().err
