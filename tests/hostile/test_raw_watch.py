"""`voipbin-tui watch` as a process against the hostile server: memory stays bounded (peak RSS measured
by the kernel), stderr stays short, signals stop it while it starts, and start-up is bounded."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hostile import raw
from tests.hostile.raw import Conn, RawRequest, RawServer

KEY = "vb_HOSTILEwatchKEY0123456789"
# The interpreter with httpx, websockets and pydantic loaded is about 60-80 MB; the bomb must add nothing.
RSS_LIMIT_KB = 200 * 1024
pytestmark = pytest.mark.timeout(90)


@dataclass
class Finished:
    code: int
    stdout: str
    stderr: str
    peak_rss_kb: int
    seconds: float


# A small launcher starts watch and reports its peak RSS: ru_maxrss of a child forked straight from a
# big test worker would count the worker's pages copied before exec.
_LAUNCHER = """
import os, sys
report = sys.argv[1]
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
with open(report, "w") as fh:
    fh.write(f"{pid}\\n")
_, status, usage = os.wait4(pid, 0)
with open(report, "a") as fh:
    fh.write(f"{usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


class WatchProcess:
    def __init__(self, server: RawServer, tmp_path: Path, config: str = "") -> None:
        cfg = tmp_path / "config.toml"
        cfg.write_text(config, encoding="utf-8")
        self.out = (tmp_path / "out").open("w+")
        self.err = (tmp_path / "err").open("w+")
        self.report = tmp_path / "launcher-report"
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _LAUNCHER,
                str(self.report),
                str(Path(sys.executable).with_name("voipbin-tui")),
                "watch",
                "--config",
                str(cfg),
                "--api-url",
                server.api_url,
                "--accesskey",
                KEY,
            ],
            stdout=self.out,
            stderr=self.err,
            env={**os.environ, "VOIPBIN_LOG__FILE": str(tmp_path / "watch.log")},
        )

    async def watch_pid(self) -> int:
        async with asyncio.timeout(20):
            while True:
                text = self.report.read_text() if self.report.exists() else ""
                if text.endswith("\n"):
                    return int(text.split()[0])
                await asyncio.sleep(0.02)

    async def send_signal(self, sig: signal.Signals) -> None:
        os.kill(await self.watch_pid(), sig)

    async def finish(self, timeout: float = 30.0) -> Finished:
        code = await asyncio.wait_for(asyncio.to_thread(self.proc.wait), timeout)
        seconds = time.monotonic() - self.started
        self.out.seek(0)
        self.err.seek(0)
        peak_kib = int(self.report.read_text().split()[1])  # ru_maxrss is in KiB on Linux
        return Finished(code, self.out.read(), self.err.read(), peak_kib, seconds)

    def kill(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, ValueError, IndexError, OSError):
                os.kill(int(self.report.read_text().split()[0]), signal.SIGKILL)
            self.proc.kill()
            self.proc.wait(10)
        self.out.close()
        self.err.close()


async def run_watch(server: RawServer, tmp_path: Path, config: str = "", timeout: float = 30.0) -> Finished:
    watch = WatchProcess(server, tmp_path, config)
    try:
        return await watch.finish(timeout)
    finally:
        watch.kill()


async def test_a_gzip_bomb_keeps_watch_small_and_fails_with_one_line(tmp_path: Path) -> None:
    async with RawServer(raw.serve({"/v1.0/customer": raw.compressed(raw.gzip_bomb())})) as server:
        done = await run_watch(server, tmp_path)
    assert done.code == 1
    assert done.peak_rss_kb < RSS_LIMIT_KB, f"peak RSS {done.peak_rss_kb} KiB"
    assert "larger than 4 MiB" in done.stderr
    assert done.stderr.count("\n") == 1
    assert done.seconds < 20


async def test_a_50_mb_error_message_gives_one_short_stderr_line(tmp_path: Path) -> None:
    async with RawServer(raw.serve({"/v1.0/customer": raw.huge_error(50_000_000, status=403)})) as server:
        done = await run_watch(server, tmp_path)
    assert done.code == 1
    assert done.stderr.count("\n") == 1
    assert len(done.stderr) < 2500
    assert "cut" in done.stderr
    assert done.peak_rss_kb < RSS_LIMIT_KB, f"peak RSS {done.peak_rss_kb} KiB"


async def test_start_up_is_bounded_by_the_request_deadline(tmp_path: Path) -> None:
    async with RawServer(raw.serve({"/v1.0/customer": raw.trickle(0.4, body=b"{" + b" " * 200 + b"}")})) as server:
        done = await run_watch(server, tmp_path, "[network]\nrequest_deadline = 1.0\n")
    assert done.code == 1
    assert "request deadline" in done.stderr
    assert done.seconds < 15


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_during_start_up_stops_watch_with_status_0(tmp_path: Path, sig: signal.Signals) -> None:
    arrived = asyncio.Event()

    async def never_answers(request: RawRequest, conn: Conn) -> None:
        arrived.set()
        await asyncio.sleep(60)

    async with RawServer(raw.serve({"/v1.0/customer": never_answers})) as server:
        watch = WatchProcess(server, tmp_path)
        try:
            await asyncio.wait_for(arrived.wait(), 20)
            sent = time.monotonic()
            await watch.send_signal(sig)
            done = await watch.finish(timeout=10)
            stopped_in = time.monotonic() - sent
        finally:
            watch.kill()
    assert done.code == 0
    assert stopped_in < 6.0
    assert "Traceback" not in done.stderr


async def test_watch_says_when_the_channel_is_refused_and_when_it_is_back(tmp_path: Path) -> None:
    async with RawServer(raw.ws_refuse_then_accept(refusals=2)) as server:
        watch = WatchProcess(server, tmp_path)
        try:
            deadline = time.monotonic() + 20
            text = ""
            while "authorised again" not in text and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                text = (tmp_path / "err").read_text()
            await watch.send_signal(signal.SIGINT)
            done = await watch.finish(timeout=10)
        finally:
            watch.kill()
    assert done.code == 0
    assert "event channel unauthorized, retrying" in done.stderr
    assert "authorised again" in done.stderr
    assert done.stderr.count("unauthorized, retrying") == 1  # once per episode, not per attempt
    assert KEY not in done.stderr
