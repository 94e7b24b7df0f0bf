"""A Python child process that prints one JSON line when ready and then answers one line per request.

Both benchmark servers (``bench.server``, ``bench.sandbox_load --serve``) run the sandbox this way, so
its timers never share an event loop with the client being measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from typing import Any, Self


class ChildProcess:
    """``async with ChildProcess([...module args]) as child``; ``child.info`` is its first JSON line."""

    def __init__(self, args: list[str], quit_line: str) -> None:
        self.args = args
        self.quit_line = quit_line
        self.proc: asyncio.subprocess.Process | None = None
        self.info: dict[str, str] = {}

    async def __aenter__(self) -> Self:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", *self.args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        self.info = json.loads(await self._line())
        return self

    async def _line(self) -> str:
        assert self.proc is not None
        assert self.proc.stdout is not None
        raw = await asyncio.wait_for(self.proc.stdout.readline(), timeout=30)
        if not raw:
            raise RuntimeError(f"{self.args[0]} exited")
        return raw.decode()

    async def request(self, line: str) -> dict[str, Any]:
        assert self.proc is not None
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()
        return dict(json.loads(await self._line()))

    async def __aexit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.request(self.quit_line), 5)
        try:
            await asyncio.wait_for(self.proc.wait(), timeout=10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
