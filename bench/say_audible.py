"""``say_audible_latency_ms``: POST /say → the first speech energy at a real phone, on the sandbox's SIP side.

A `voipbin-tui phone` process registers at the sandbox (in this process), the sandbox calls it, and once the
greeting is over each say is POSTed and timed until the phone reports a `heard` segment starting after it
(the segment's start is seconds after the phone's answer, anchored to the wall clock by its `answered`
line). The baseline is the sandbox's own text-to-speech time for the same text (eSpeak NG, or the tone
fallback without it) plus the first-audio delay the sandbox models on purpose (`tts_first_audio_delay`,
0.3 s): what a say costs before any audio can leave, so the rest is pacing, RTP and the phone's energy
detection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

SAYS = ("Your table is ready.", "The kitchen closes at ten.", "Thank you for calling.")


async def _lines(proc: asyncio.subprocess.Process, into: list[dict[str, Any]]) -> None:
    assert proc.stdout is not None
    while line := await proc.stdout.readline():
        with contextlib.suppress(ValueError):
            into.append(json.loads(line))


async def _wait_for(lines: list[dict[str, Any]], kind: str, after: int, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in lines[after:]:
            if line.get("kind") == kind:
                return line
            if line.get("kind") == "error":
                raise RuntimeError(str(line.get("message")))
        await asyncio.sleep(0.01)
    raise RuntimeError(f"no {kind!r} line within {timeout} s")


def _tts_baseline_ms(text: str) -> float:
    from tui.sandbox.sip.voice import synthesize

    synthesize(text, 1.0)  # load the voice first: the sandbox keeps it loaded
    started = time.perf_counter()
    synthesize(text, 1.0)
    return (time.perf_counter() - started) * 1000.0


async def measure_say_audible(says: int = 3) -> dict[str, Any]:
    from bench.phone_rig import phone_on_sip_sandbox, quickstart_call
    from tui.sandbox import SandboxSettings

    texts = [SAYS[i % len(SAYS)] for i in range(says)]
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with phone_on_sip_sandbox(Path(tmp), "--no-record") as rig:
            api = rig.api
            lines: list[dict[str, Any]] = []
            reader = asyncio.create_task(_lines(rig.proc, lines))
            try:
                await _wait_for(lines, "registered", 0, 15)
                created = await api.post("/calls", json=quickstart_call("Hello.", 60_000))
                created.raise_for_status()
                call_id = created.json()["groupcalls"][0]["call_ids"][0]
                answered = await _wait_for(lines, "answered", 0, 15)
                answered_at = datetime.fromisoformat(answered["time"]).timestamp()
                await _wait_for(lines, "heard", 0, 10)  # the greeting is over
                speaking = await api.post(
                    "/speakings", json={"reference_type": "call", "reference_id": call_id, "direction": "out"}
                )
                speaking.raise_for_status()
                speaking_id = speaking.json()["id"]
                await asyncio.sleep(0.5)
                for text in texts:
                    mark = len(lines)
                    sent = time.time()
                    (await api.post(f"/speakings/{speaking_id}/say", json={"text": text})).raise_for_status()
                    heard = await _wait_for(lines, "heard", mark, 15)
                    latencies.append((answered_at + float(heard["start"]) - sent) * 1000.0)
                    await asyncio.sleep(0.8)  # a pause the segmenter can see between says
            finally:
                reader.cancel()
    baseline = statistics.median(_tts_baseline_ms(t) for t in texts)
    # The sandbox models the real service's wait before a say's first audio (tts_first_audio_delay).
    modelled = SandboxSettings().tts_first_audio_delay * 1000.0
    median = statistics.median(latencies)
    return {
        "says": len(latencies),
        "latencies_ms": [round(v, 1) for v in latencies],
        "say_audible_latency_ms": round(median, 1),
        "baseline_tts_ms": round(baseline, 1),
        "modelled_first_audio_delay_ms": round(modelled, 1),
        "over_baseline_ms": round(median - baseline - modelled, 1),
    }
