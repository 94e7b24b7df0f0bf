"""Load benchmark of the VoIPBIN sandbox: many concurrent answered calls with speech.

``measure_concurrent_calls(n_calls, duration_s, speed)`` starts a sandbox **in a subprocess** (so the
client's own work — parsing a few hundred frames a second, HTTP calls — never delays the sandbox's
timers and the figures describe the sandbox alone), places ``n_calls`` extension calls through the
real REST API with WebSocket subscribers attached, makes every call speak both ways (the greeting,
the phone's caller script, and lines said through the Speaking API), then hangs them all up and reports:

- server-side ping lateness and missed pong deadlines (pings every 10 s, as the real server);
- server-side event lateness: how late the simulation's timers fired (p50/p99/max);
- frames sent/dropped, plus the client-side delivery delay of speech/transcript frames;
- ``deadlines_met``: no late (>100 ms) or missed ping, no event timer more than 100 ms late, no frame
  dropped.

``search_max_calls(...)`` finds the largest ``n`` that still meets every deadline.
Run ``python -m bench.sandbox_load --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import sys
import time
from typing import Any

import httpx
import websockets

from bench.child import ChildProcess

LATE_MS = 100.0
CALLER_SCRIPT = [
    "Hi, this is a test of the transcription feature.",
    "I am calling to check that every line arrives on time.",
    "Thanks, that is all from me for now.",
]
SAY_LINES = [
    "Hello, how are you today? This is VoIPBIN speaking to you in real time.",
    "Here is one more sentence so that both directions carry speech at once.",
]
GREETING = (
    "Hello. This is the VoIPBIN real-time voice interaction test. You can speak now and your speech "
    "will be transcribed. The call will stay open for you to test the Speaking API."
)


# --- the sandbox side (subprocess) ----------------------------------------------------------------


async def _serve(speed: float, ping_interval: float) -> None:
    from tui.sandbox import EmbeddedSandbox, SandboxSettings

    settings = SandboxSettings(
        speed=speed,
        caller_script=CALLER_SCRIPT,
        caller_delay=2.0,
        ping_interval=ping_interval,
        random_seed=1,
        # The load client holds one WebSocket per call plus up to 64 HTTP connections. The default cap
        # (256 connections, a protection against floods) would refuse calls beyond ~190 with 503s and so
        # measure the cap, not how many calls the simulation keeps on time.
        max_connections=4096,
    )
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with EmbeddedSandbox(settings) as sandbox:
        info = {
            "api_url": sandbox.api_url,
            "ws_url": sandbox.ws_url,
            "control_url": sandbox.control_url,
            "accesskey": sandbox.accesskey,
            "customer_id": sandbox.customer_id,
        }
        print(json.dumps(info), flush=True)
        while True:
            line = (await reader.readline()).decode().strip()
            if line == "stats":
                print(json.dumps(sandbox.stats()), flush=True)
            elif line == "reset":
                assert sandbox.core is not None
                sandbox.core.clock.lateness.reset()
                sandbox.core.ws_stats.ping_lateness.reset()
                print("{}", flush=True)
            else:  # "quit" or EOF
                break


class SandboxProcess(ChildProcess):
    def __init__(self, speed: float, ping_interval: float) -> None:
        super().__init__(
            ["bench.sandbox_load", "--serve", "--speed", str(speed), "--ping-interval", str(ping_interval)],
            quit_line="quit",
        )

    async def command(self, name: str) -> dict[str, Any]:
        return await self.request(name)


# --- the client side ------------------------------------------------------------------------------


def _parse_time(text: str) -> float | None:
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class Subscriber:
    """One WebSocket that counts frames and measures delivery delay of time-stamped frames."""

    def __init__(self, url: str, topics: list[str]) -> None:
        self.url = url
        self.topics = topics
        self.frames = 0
        self.delays_ms: list[float] = []
        self.answered: dict[str, asyncio.Event] = {}
        self.dropped = False
        self._ws: websockets.ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._ws = await websockets.connect(self.url, max_queue=None, open_timeout=30)
        if self.topics:
            await self.subscribe(self.topics)
        self._task = asyncio.get_running_loop().create_task(self._read())

    async def subscribe(self, topics: list[str]) -> None:
        assert self._ws is not None
        await self._ws.send(json.dumps({"type": "subscribe", "topics": topics}))

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for message in self._ws:
                now = time.time()
                self.frames += 1
                frame = json.loads(message)
                stamp = frame.get("tm_event") or (frame.get("tm_create") if "tm_transcript" in frame else None)
                if isinstance(stamp, str):
                    sent = _parse_time(stamp)
                    if sent is not None:
                        self.delays_ms.append((now - sent) * 1000.0)
                if frame.get("status") == "progressing" and frame.get("direction") == "outgoing":
                    self.answered.setdefault(frame["id"], asyncio.Event()).set()
        except websockets.ConnectionClosedError:
            self.dropped = True

    def answered_event(self, call_id: str) -> asyncio.Event:
        return self.answered.setdefault(call_id, asyncio.Event())

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            with contextlib.suppress(BaseException):
                await self._task


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 3)

    return {"p50_ms": pick(0.50), "p99_ms": pick(0.99), "max_ms": round(ordered[-1], 3)}


async def _run_call(
    api: httpx.AsyncClient,
    console: Subscriber,
    per_call: Subscriber,
    cid: str,
    duration_s: float,
    speed: float,
    start_gate: asyncio.Semaphore,
) -> dict[str, Any]:
    body = {
        "source": {"type": "tel", "target": "+15551234567"},
        "destinations": [{"type": "extension", "target_name": "quickstart-phone"}],
        "actions": [
            {"type": "transcribe_start", "option": {"language": "en-US"}},
            {"type": "talk", "option": {"text": GREETING, "language": "en-US"}},
            {"type": "sleep", "option": {"duration": int(duration_s * speed * 1000)}},
        ],
    }
    async with start_gate:
        response = await api.post("/calls", json=body)
    response.raise_for_status()
    call_id = response.json()["groupcalls"][0]["call_ids"][0]
    await per_call.subscribe([f"customer_id:{cid}:call:{call_id}"])
    await asyncio.wait_for(console.answered_event(call_id).wait(), timeout=60)
    speaking = await api.post(
        "/speakings", json={"reference_type": "call", "reference_id": call_id, "direction": "out"}
    )
    speaking.raise_for_status()
    speaking_id = speaking.json()["id"]
    errors = 0
    for line in SAY_LINES:
        await asyncio.sleep(duration_s / (len(SAY_LINES) + 1))
        said = await api.post(f"/speakings/{speaking_id}/say", json={"text": line})
        errors += said.status_code != 200
    return {"call_id": call_id, "speaking_id": speaking_id, "say_errors": errors}


async def measure_concurrent_calls(n_calls: int, duration_s: float, speed: float = 1.0) -> dict[str, Any]:
    """Run ``n_calls`` answered calls with speech for about ``duration_s`` seconds; report lateness."""
    ping_interval = 10.0
    async with SandboxProcess(speed, ping_interval) as sandbox:
        info = sandbox.info
        cid = info["customer_id"]
        ws_url = f"{info['ws_url']}?accesskey={info['accesskey']}"
        consoles = [
            Subscriber(
                ws_url, [f"customer_id:{cid}:{r}:{r}_" for r in ("call", "groupcall", "transcribe", "transcript")]
            )
            for _ in range(2)
        ]
        per_call = [Subscriber(ws_url, []) for _ in range(n_calls)]
        for subscriber in [*consoles, *per_call]:
            await subscriber.start()
        await sandbox.command("reset")
        started = time.monotonic()
        # Idle connections are dropped before the server's own 5 s keep-alive timeout, so a request never
        # races the server closing the connection it is sent on (a ReadError that is not the sandbox's).
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64, keepalive_expiry=2.0)
        async with httpx.AsyncClient(
            base_url=info["api_url"], params={"accesskey": info["accesskey"]}, limits=limits, timeout=60
        ) as api:
            gate = asyncio.Semaphore(32)
            results = await asyncio.gather(
                *(_run_call(api, consoles[0], per_call[i], cid, duration_s, speed, gate) for i in range(n_calls)),
                return_exceptions=True,
            )
            failures = [r for r in results if isinstance(r, BaseException)]
            ok = [r for r in results if isinstance(r, dict)]
            remaining = duration_s - (time.monotonic() - started)
            if remaining > 0:
                await asyncio.sleep(remaining)
            await asyncio.gather(*(api.post(f"/calls/{r['call_id']}/hangup") for r in ok))
            await asyncio.sleep(2.0 / speed + 0.5)
            stats = await sandbox.command("stats")
        elapsed = time.monotonic() - started
        for subscriber in [*consoles, *per_call]:
            await subscriber.close()

    delays = [d for s in consoles for d in s.delays_ms]
    timer = stats["timer_lateness"]
    pings = stats["ping_lateness"]
    deadlines_met = (
        not failures
        and stats["pings_late"] == 0
        and stats["pings_missed"] == 0
        and timer["max_ms"] <= LATE_MS
        and stats["frames_dropped"] == 0
        and not any(s.dropped for s in [*consoles, *per_call])
    )
    return {
        "n_calls": n_calls,
        "duration_s": round(elapsed, 1),
        "speed": speed,
        "calls_ok": len(ok),
        "call_failures": [repr(f) for f in failures[:5]],
        "say_errors": sum(r["say_errors"] for r in ok),
        "websockets": len(consoles) + len(per_call),
        "pings_sent": stats["pings_sent"],
        "pings_late": stats["pings_late"],
        "pings_missed": stats["pings_missed"],
        "ping_lateness_ms": {k: pings[k] for k in ("p50_ms", "p99_ms", "max_ms")},
        "event_lateness_ms": {k: timer[k] for k in ("p50_ms", "p99_ms", "max_ms")},
        "event_timers": timer["count"],
        "events_over_100ms": timer["over_100ms"],
        "events_published": stats["events_published"],
        "frames_sent": stats["frames_sent"],
        "frames_dropped": stats["frames_dropped"],
        "frames_per_second": round(stats["frames_sent"] / elapsed, 1) if elapsed else 0.0,
        "client_delivery_ms": _percentiles(delays),
        "deadlines_met": deadlines_met,
    }


async def search_max_calls(
    start: int = 25, limit: int = 1000, duration_s: float = 30.0, speed: float = 1.0
) -> dict[str, Any]:
    """Largest call count that meets every deadline: double until a failure, then bisect (±10 %)."""
    runs: list[dict[str, Any]] = []
    best, worst = 0, None
    n = start
    while n <= limit:
        result = await measure_concurrent_calls(n, duration_s, speed)
        runs.append(result)
        if not result["deadlines_met"]:
            worst = n
            break
        best = n
        n *= 2
    if worst is not None:
        while worst - best > max(1, best // 10):
            middle = (best + worst) // 2
            result = await measure_concurrent_calls(middle, duration_s, speed)
            runs.append(result)
            if result["deadlines_met"]:
                best = middle
            else:
                worst = middle
    return {"max_calls": best, "first_failure": worst, "duration_s": duration_s, "speed": speed, "runs": runs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sandbox_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100, help="concurrent calls (default 100)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per run (default 60)")
    parser.add_argument("--speed", type=float, default=1.0, help="sandbox speed (default 1)")
    parser.add_argument("--search", action="store_true", help="find the highest sustainable call count")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ping-interval", type=float, default=10.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(_serve(args.speed, args.ping_interval))
        return 0
    if args.search:
        result = asyncio.run(search_max_calls(duration_s=args.duration, speed=args.speed))
    else:
        result = asyncio.run(measure_concurrent_calls(args.calls, args.duration, args.speed))
    print(json.dumps(result, indent=2))
    return 0 if result.get("deadlines_met", True) else 1


if __name__ == "__main__":
    raise SystemExit(main())
