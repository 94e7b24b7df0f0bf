"""The phone as a user runs it (a real process printing JSON lines) against a loopback SIP peer."""

from __future__ import annotations

import array
import asyncio
import json
import math
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.phone.sippeer import SipPeer

PASSWORD = "s3cret-Phone-pw"
DOMAIN = "sandbox.local"


def voipbin_tui() -> str:
    return str(Path(sys.executable).with_name("voipbin-tui"))


def tone(seconds: float, freq: float = 440.0, amplitude: int = 8000, rate: int = 8000) -> bytes:
    n = int(seconds * rate)
    return array.array("h", [int(amplitude * math.sin(2 * math.pi * freq * i / rate)) for i in range(n)]).tobytes()


def silence(seconds: float, rate: int = 8000) -> bytes:
    return bytes(2 * int(seconds * rate))


class PhoneProcess:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self._new = asyncio.Event()
        self._reader = asyncio.create_task(self._read())
        self._reader.add_done_callback(lambda _: self._new.set())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            text = raw.decode()
            self.raw.append(text)
            self.lines.append(json.loads(text))
            self._new.set()

    def kinds(self) -> list[str]:
        return [ln["kind"] for ln in self.lines]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [ln for ln in self.lines if ln["kind"] == kind]

    async def next(self, kind: str, timeout: float = 10.0, count: int = 1) -> dict[str, Any]:
        async def wait() -> dict[str, Any]:
            while len(self.of(kind)) < count:
                if self._reader.done():
                    err = b""
                    if self.proc.stderr is not None:
                        err = await asyncio.wait_for(self.proc.stderr.read(), 5)
                    raise AssertionError(
                        f"phone exited before a {kind!r} line; lines: {self.lines}; stderr: {err.decode()[-3000:]}"
                    )
                self._new.clear()
                await self._new.wait()
            return self.of(kind)[count - 1]

        try:
            return await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"no {kind!r} line within {timeout} s; lines: {self.kinds()}") from None

    async def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        await self.proc.stdin.drain()

    async def finish(self, interrupt: bool = False, timeout: float = 15.0) -> tuple[int, str]:
        if interrupt:
            self.proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        await self._reader
        assert self.proc.stderr is not None
        return code, (await self.proc.stderr.read()).decode()

    def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()


async def start_phone(args: list[str], tmp_path: Path, env_extra: dict[str, str] | None = None) -> PhoneProcess:
    env = dict(os.environ)
    env["PHONE_TEST_PW"] = PASSWORD
    config = tmp_path / "phone.toml"
    config.touch()
    env["VOIPBIN_TUI_CONFIG"] = str(config)
    env.update(env_extra or {})
    proc = await asyncio.create_subprocess_exec(
        voipbin_tui(),
        "phone",
        "--password-env",
        "PHONE_TEST_PW",
        "--record-dir",
        str(tmp_path / "rec"),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    return PhoneProcess(proc)


def phone_args(peer: SipPeer, transport: str, user: str = "2000", engine: str = "baresip") -> list[str]:
    return [
        "--extension",
        user,
        "--domain",
        DOMAIN,
        "--registrar",
        f"127.0.0.1:{peer.port}",
        "--transport",
        transport,
        "--engine",
        engine,
        "--answer-delay",
        "0.2",
    ]


@pytest.fixture
async def peer() -> AsyncIterator[SipPeer]:
    p = SipPeer({"2000": PASSWORD}, DOMAIN)
    await p.start()
    yield p
    await p.close()
