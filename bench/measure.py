"""The console's measurements, each against a baseline taken in the same run.

Every function takes a running ``BenchServer`` and returns plain numbers; ``bench.__main__`` turns them
into the table and the JSON keys.
"""

from __future__ import annotations

import asyncio
import gc
import io
import json
import os
import statistics
import time
from typing import Any

import httpx
import websockets

from bench.harness import Probe, console, press, wait_until
from bench.server import BenchServer, stamp_of


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100.0 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


# --- event → screen latency ---------------------------------------------------------------------------


async def _live_call(client: httpx.AsyncClient, api_url: str) -> str:
    """Place the seed call with plain REST and wait until its transcribe runs; returns the leg id."""
    body = {
        "source": {"type": "tel", "target": "+15551234567"},
        "destinations": [{"type": "extension", "target_name": "quickstart-phone"}],
        "actions": [
            {"type": "transcribe_start", "option": {"language": "en-US"}},
            {"type": "sleep", "option": {"duration": 600000}},
        ],
    }
    created = (await client.post(f"{api_url}/calls", json=body)).raise_for_status().json()
    leg = created["groupcalls"][0]["call_ids"][0]

    async def transcribing() -> bool:
        page = await client.get(f"{api_url}/transcribes", params={"reference_type": "call", "reference_id": leg})
        return any(t["status"] == "progressing" for t in page.json().get("result", []))

    deadline = time.monotonic() + 30
    while not await transcribing():
        if time.monotonic() > deadline:
            raise TimeoutError("the baseline call never started transcribing")
        await asyncio.sleep(0.1)
    return str(leg)


async def raw_client_latency(srv: BenchServer, rate: float, count: int) -> list[float]:
    """The baseline path: a bare websockets client that parses each frame and prints it."""
    async with httpx.AsyncClient(params={"accesskey": srv.info["accesskey"]}) as client:
        leg = await _live_call(client, srv.info["api_url"])
        try:
            return await _raw_receive(srv, rate, count)
        finally:
            await client.post(f"{srv.info['api_url']}/calls/{leg}/hangup")


async def _raw_receive(srv: BenchServer, rate: float, count: int) -> list[float]:
    url = f"{srv.info['ws_url']}?accesskey={srv.info['accesskey']}"
    topic = f"customer_id:{srv.info['customer_id']}:transcript:transcript_"
    sink = io.StringIO()
    latencies: list[float] = []
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"type": "subscribe", "topics": [topic]}))
        await asyncio.sleep(0.2)
        await srv.inject(rate, count, "raw")
        deadline = time.monotonic() + count / rate + 10
        while len(latencies) < count and time.monotonic() < deadline:
            try:
                frame = await asyncio.wait_for(ws.recv(), timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            data = json.loads(frame)
            print(f"[{data.get('direction')}] {data.get('message')}", file=sink)
            sent = stamp_of(str(data.get("message", "")))
            if sent is not None:
                latencies.append((time.monotonic() - sent) * 1000.0)
            if sink.tell() > 1 << 20:
                sink.seek(0)
                sink.truncate()
    await srv.wait_injected(10)
    return latencies


async def app_latency(srv: BenchServer, rate: float, count: int) -> tuple[list[float], int]:
    """Frame leaves the sandbox → its line is drawn in the transcript view. Returns latencies, lines lost."""
    async with console(srv) as (_app, probe):
        await srv.inject(rate, count, "lat")
        await srv.wait_injected(count / rate + 30)
        # A line is measured when it is drawn, which comes a frame after it is inserted: wait for both.
        await _settle(lambda: probe.inserted >= count and len(probe.painted) >= probe.inserted, 10)
        return list(probe.painted.values()), count - probe.inserted


async def _settle(done: Any, timeout: float) -> None:
    try:
        await wait_until(done, timeout, "the app to catch up")
    except TimeoutError:
        pass


# --- burst: nothing lost, typing stays smooth ---------------------------------------------------------


async def burst(srv: BenchServer, rate: float, seconds: float, typing_rate: float = 20.0) -> dict[str, Any]:
    count = int(rate * seconds)
    async with console(srv) as (app, probe):
        box = app.call_screen.say_box
        box.focus()
        box.value = ""
        await asyncio.sleep(0.3)
        probe.reset()
        await srv.inject(rate, count, "burst")
        typed = 0
        start = time.monotonic()
        letters = "abcdefghijklmnopqrstuvwxyz"
        while time.monotonic() - start < seconds:
            ch = letters[typed % len(letters)]
            press(app, ch, ch, probe)
            typed += 1
            await asyncio.sleep(1.0 / typing_rate)
        await srv.wait_injected(30)
        await _settle(lambda: probe.inserted >= count and len(probe.keys_shown) >= typed, 15)
        keys = [(shown - sent) * 1000.0 for sent, shown in zip(probe.keys_sent, probe.keys_shown, strict=False)]
        view = app.call_screen.transcript
        return {
            "sent": count,
            "shown": probe.inserted,
            "lost": count - probe.inserted,
            "keys_typed": typed,
            "keys_shown": len(probe.keys_shown),
            "key_latencies": keys,
            "view_resyncs": view.resyncs,
        }


# --- memory ---------------------------------------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


async def rss_growth(srv: BenchServer, lines: int, rate: float) -> dict[str, float]:
    async with console(srv) as (_app, probe):
        probe.watch_paint = False
        await asyncio.sleep(0.5)
        gc.collect()
        before = rss_mb()
        await srv.inject(rate, lines, "mem")
        await srv.wait_injected(lines / rate + 60)
        await _settle(lambda: probe.inserted >= lines, 60)
        await asyncio.sleep(0.5)
        gc.collect()
        after = rss_mb()
        return {"before_mb": before, "after_mb": after, "growth_mb": after - before, "through": probe.inserted}


# --- say: Enter → request at the server -----------------------------------------------------------------


async def say_overhead(srv: BenchServer, count: int) -> dict[str, float]:
    text = "Hello, how are you today? This is a benchmark line."
    async with console(srv) as (app, _probe):
        session = app.session
        assert session is not None
        speaking = session.speech.speaking
        assert speaking is not None
        await srv.say_arrivals()
        app_ms: list[float] = []
        box = app.call_screen.say_box
        box.focus()
        for _ in range(count):
            box.value = text
            await asyncio.sleep(0.05)
            t0 = time.monotonic()
            press(app, "enter", "\r")
            arrivals = await _arrivals(srv, 1)
            app_ms.append((arrivals[0] - t0) * 1000.0)
            await asyncio.sleep(0.05)
        # The baseline: the same body through a bare httpx client, from the same process.
        raw_ms: list[float] = []
        url = f"{srv.info['api_url']}/speakings/{speaking.id}/say"
        async with httpx.AsyncClient(params={"accesskey": srv.info["accesskey"]}) as client:
            await client.post(url, json={"text": text})  # warm the connection, as the app's is
            await srv.say_arrivals()
            for _ in range(count):
                t0 = time.monotonic()
                await client.post(url, json={"text": text})
                arrivals = await _arrivals(srv, 1)
                raw_ms.append((arrivals[0] - t0) * 1000.0)
                await asyncio.sleep(0.05)
        app_p50, raw_p50 = statistics.median(app_ms), statistics.median(raw_ms)
        return {"app_p50_ms": app_p50, "raw_p50_ms": raw_p50, "overhead_p50_ms": app_p50 - raw_p50}


async def _arrivals(srv: BenchServer, n: int, timeout: float = 5.0) -> list[float]:
    got: list[float] = []
    deadline = time.monotonic() + timeout
    while len(got) < n:
        got += await srv.say_arrivals()
        if len(got) >= n:
            break
        if time.monotonic() > deadline:
            raise TimeoutError("the say request never reached the server")
        await asyncio.sleep(0.005)
    return got


__all__ = ["Probe", "app_latency", "burst", "percentile", "raw_client_latency", "rss_growth", "say_overhead"]
