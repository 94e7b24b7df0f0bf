"""``phone_cpu_per_call_pct``: CPU of a `voipbin-tui phone` process during a live call with audio both ways.

The sandbox's SIP side (in this process) calls the phone and talks; the phone plays a WAV line at the
same time, so RTP flows both ways for the whole window. CPU is the phone process's user + system time
(all its threads, from /proc) over the wall-clock window, as a percentage of one core.
"""

from __future__ import annotations

import array
import asyncio
import json
import math
import os
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _write_tone(path: Path, seconds: float) -> None:
    rate = 8000
    samples = array.array("h", [int(6000 * math.sin(2 * math.pi * 330 * i / rate)) for i in range(int(seconds * rate))])
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())


async def _next(proc: asyncio.subprocess.Process, kind: str, timeout: float) -> dict[str, Any]:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), max(0.1, deadline - time.monotonic()))
        if not line:
            raise RuntimeError(f"the phone exited before {kind!r}")
        data: dict[str, Any] = json.loads(line)
        if data["kind"] == kind:
            return data
        if data["kind"] == "error":
            raise RuntimeError(str(data.get("message")))


async def measure_phone_cpu(seconds: float, engine: str = "baresip") -> dict[str, Any]:
    from bench.phone_rig import phone_on_sip_sandbox, quickstart_call

    with tempfile.TemporaryDirectory() as tmp:
        line = Path(tmp) / "line.wav"
        _write_tone(line, seconds + 10)
        args = ("--engine", engine, "--cue", "seconds", "--cue-seconds", "0", "--say", f"@{line}")
        async with phone_on_sip_sandbox(Path(tmp), *args, "--record-dir", str(Path(tmp) / "rec")) as rig:
            proc = rig.proc
            await _next(proc, "registered", 15)
            talk = "This is a long greeting so that audio flows towards the phone. " * 20
            created = await rig.api.post("/calls", json=quickstart_call(talk, int((seconds + 20) * 1000)))
            created.raise_for_status()
            await _next(proc, "answered", 15)
            await asyncio.sleep(1.0)  # past the set-up
            cpu0, t0 = _cpu_seconds(proc.pid), time.monotonic()
            await asyncio.sleep(seconds)
            cpu1, t1 = _cpu_seconds(proc.pid), time.monotonic()
            sip = rig.sandbox.stats().get("sip", {})
    return {
        "engine": engine,
        "window_s": round(t1 - t0, 2),
        "cpu_s": round(cpu1 - cpu0, 3),
        "cpu_pct_one_core": round(100.0 * (cpu1 - cpu0) / (t1 - t0), 2),
        "sandbox_sip": sip,
    }
