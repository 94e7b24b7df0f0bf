"""The scenario runner's cost: ``runner_overhead_ratio`` and ``runner_concurrent_calls``.

- Overhead: the same scenario (dial → answered → greeting heard → say → heard → the phone speaks → heard
  → hang up → ended) through ``run_live`` and through a minimal script of raw httpx + websockets doing the
  same steps with the same event waits, each with its own embedded sandbox of the same settings; wall
  time of alternated pairs, median of the per-pair ratios.
- Concurrency: N scenario calls at once in this process (one shared account, the runner's real-service
  path) against a sandbox in another process; an expectation counts as resolved on time when its step
  ends within 100 ms of the arrival of the event that satisfies it (when the account's event stream read
  it off the WebSocket; not when the session got round to applying it), or of the step's start when it
  already held.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import ssl
import statistics
import time
from collections.abc import Iterator
from typing import Any

from tui.runner.schema import Scenario

GREETING = "Hello. This is the scripted test."
SAID = "Your order has shipped."
CALLER = "Thank you, goodbye."
ON_TIME_S = 0.100


def bench_scenario(speed: float = 20.0, sleep: str = "60s") -> Scenario:
    return Scenario.model_validate(
        {
            "name": "bench-seed",
            # The final result's delay is drawn at random per sentence, and the runner and the raw script
            # draw in different orders (their requests differ): fixed, so both wait for the same events.
            "sandbox": {
                "speed": speed,
                "random_seed": 7,
                "caller_script": [],
                "stt_final_delay_min": 1.0,
                "stt_final_delay_max": 1.0,
            },
            "call": {
                "actions": [
                    {"transcribe_start": {"language": "en-US"}},
                    {"talk": {"text": GREETING}},
                    {"sleep": sleep},
                ]
            },
            "steps": [
                {"expect": {"call": "progressing", "within": "30s"}},
                {"expect": {"transcript": "out", "contains": "scripted test", "within": "30s"}},
                {"say": SAID},
                {"expect": {"say": "last", "state": "heard", "within": "30s"}},
                {"phone.say": CALLER},
                {"expect": {"transcript": "in", "contains": "thank you goodbye", "within": "30s"}},
                {"hangup": {}},
                {"expect": {"call": "hangup", "within": "30s"}},
            ],
        }
    )


# -- the baseline: raw httpx + websockets -------------------------------------------------------------------


class _RawCall:
    def __init__(self) -> None:
        self.statuses: dict[str, str] = {}
        self.lines: list[tuple[str, str]] = []
        self.changed = asyncio.Event()

    def on_frame(self, text: str) -> None:
        try:
            data = json.loads(text)
        except ValueError:
            return
        if not isinstance(data, dict):
            return
        if isinstance(data.get("data"), dict):
            data = data["data"]
        # Only the final result (a transcript has tm_transcript): the speech events' interim results carry
        # the words heard so far too, and the runner waits for the final transcript.
        if "message" in data and "tm_transcript" in data and "transcribe_id" in data:
            self.lines.append((str(data["direction"]), str(data["message"])))
        elif isinstance(data.get("status"), str) and "destination" in data and isinstance(data.get("id"), str):
            self.statuses[data["id"]] = data["status"]
        self.changed.set()

    async def until(self, predicate: Any, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            self.changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("baseline script: an event did not come")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)


def _heard(lines: list[tuple[str, str]], direction: str, words: str) -> bool:
    return any(
        d == direction and words in " ".join(t.lower().replace(",", "").replace(".", "").split()) for d, t in lines
    )


@functools.cache
def _raw_tls() -> ssl.SSLContext:
    import httpx

    return httpx.create_ssl_context()


async def raw_once(speed: float = 20.0) -> float:
    import httpx
    import websockets

    from tui.sandbox import EmbeddedSandbox

    started = time.monotonic()
    sandbox = EmbeddedSandbox(bench_scenario(speed).sandbox, port=0)
    await sandbox.start()
    key = {"accesskey": sandbox.accesskey}
    call = _RawCall()
    try:
        # One TLS context for the process, as the runner has: neither side pays for reading the CA bundle.
        tls = _raw_tls()
        async with httpx.AsyncClient(base_url=sandbox.api_url, params=key, timeout=10, verify=tls) as http:
            cid = (await http.get("/customer")).json()["id"]
            async with websockets.connect(f"{sandbox.ws_url}?accesskey={sandbox.accesskey}") as ws:
                topics = [f"customer_id:{cid}:{k}:{k}_" for k in ("call", "groupcall", "transcribe", "transcript")]
                await ws.send(json.dumps({"type": "subscribe", "topics": topics}))

                async def read() -> None:
                    async for message in ws:
                        call.on_frame(message if isinstance(message, str) else message.decode())

                reader = asyncio.create_task(read())
                body = {
                    "source": {"type": "tel", "target": "+15551234567"},
                    "destinations": [{"type": "extension", "target_name": "quickstart-phone"}],
                    "actions": [a.model_dump() for a in bench_scenario(speed).call.actions],  # type: ignore[union-attr]
                }
                created = (await http.post("/calls", json=body)).json()
                legs = [c["id"] for c in created.get("calls", [])]
                for gc in created.get("groupcalls", []):
                    legs.extend(gc.get("call_ids", []))
                await call.until(lambda: any(call.statuses.get(c) == "progressing" for c in legs))
                leg = next(c for c in legs if call.statuses.get(c) == "progressing")
                await call.until(lambda: _heard(call.lines, "out", "scripted test"))
                spec = {"reference_type": "call", "reference_id": leg, "provider": "elevenlabs", "direction": "out"}
                speaking = (await http.post("/speakings", json=spec)).json()
                # No event says a speaking is up: poll, as every client must.
                while (await http.get(f"/speakings/{speaking['id']}")).json().get("status") != "active":  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
                await http.post(f"/speakings/{speaking['id']}/say", json={"text": SAID})
                await call.until(lambda: _heard(call.lines, "out", "order has shipped"))
                async with httpx.AsyncClient(base_url=sandbox.control_url, timeout=10, verify=tls) as control:
                    await control.post(f"/calls/{leg}/speak", json={"text": CALLER})
                await call.until(lambda: _heard(call.lines, "in", "thank you goodbye"))
                await http.post(f"/calls/{leg}/hangup")
                await call.until(lambda: call.statuses.get(leg) == "hangup")
                await http.delete(f"/speakings/{speaking['id']}")
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader
    finally:
        await sandbox.stop()
    return time.monotonic() - started


async def runner_once(speed: float = 20.0) -> float:
    from tui.runner.live import run_live
    from tui.runner.target import TargetOptions

    started = time.monotonic()
    outcome = await run_live(bench_scenario(speed), TargetOptions())
    if outcome.failure is not None:
        raise RuntimeError(f"the bench scenario failed: {outcome.failure.kind}: {outcome.failure.message}")
    return time.monotonic() - started


async def overhead_ratio(pairs: int) -> dict[str, Any]:
    await raw_once()
    await runner_once()
    ratios, raws, runs = [], [], []
    for i in range(pairs):
        if i % 2:
            raw = await raw_once()
            run = await runner_once()
        else:
            run = await runner_once()
            raw = await raw_once()
        raws.append(raw)
        runs.append(run)
        ratios.append(run / raw)
    return {
        "ratio": statistics.median(ratios),
        "raw_median_s": statistics.median(raws),
        "runner_median_s": statistics.median(runs),
        "pairs": pairs,
    }


# -- concurrency ------------------------------------------------------------------------------------------


async def concurrent_calls(n_calls: int, speed: float = 5.0, *, share_account: bool = True) -> dict[str, Any]:
    """N scenario calls at once against a sandbox in another process; lateness of every resolution."""
    with _runner_process_settings():
        return await _concurrent_calls(n_calls, speed, share_account=share_account)


@contextlib.contextmanager
def _runner_process_settings() -> Iterator[None]:
    """This process stands in for the runner's: the very settings ``voipbin-tui test`` applies."""
    from bench.process_settings import standing_in_for
    from tui.runner.process_tuning import tune_for_scenario_calls

    with standing_in_for(tune_for_scenario_calls):
        yield


async def _concurrent_calls(n_calls: int, speed: float, *, share_account: bool) -> dict[str, Any]:
    from pydantic import SecretStr

    from bench.sandbox_load import SandboxProcess
    from tui.config import Settings
    from tui.runner.live import LiveCall, run_to_completion
    from tui.runner.target import TargetOptions

    async with SandboxProcess(speed, 10.0) as proc:
        info = proc.info
        # A long sleep: a late runner must fail on lateness, not because the call's flow ran out.
        scenario = bench_scenario(speed, sleep="10m")
        # The sandbox process is reached as a service would be (no scenario sandbox, no control of its own).
        settings = Settings.model_construct().model_copy(
            update={"api_url": info["api_url"], "accesskey": SecretStr(info["accesskey"])}
        )
        late: list[float] = []
        by_step: dict[int, float] = {}
        failures: list[str] = []

        async def one(index: int) -> None:
            options = TargetOptions(real=True, allow_real=True, settings=settings, share_account=share_account)
            call = LiveCall(scenario, options)
            try:
                await call.start()
                for step_index, step in enumerate(scenario.steps):
                    await call.runner.run_step(step_index, step)
                    record = call.runner.trace[-1]
                    if step.expect is not None and record.status == "passed":
                        # From the arrival of the event that satisfied it (read off the event channel),
                        # or from the step's start when it already held then.
                        t0 = call.runner.t0
                        started = t0 + record.started_s
                        arrived = t0 + record.satisfied_s if record.satisfied_s is not None else started
                        lateness = max(0.0, t0 + record.ended_s - max(arrived, started))
                        late.append(lateness)
                        by_step[step_index] = max(by_step.get(step_index, 0.0), lateness)
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
            finally:
                await run_to_completion(call.close())

        await proc.command("reset")
        lag = _LoopLag()
        cpu0 = time.process_time()
        started = time.monotonic()
        async with lag:
            await asyncio.gather(*(one(i) for i in range(n_calls)))
        elapsed = time.monotonic() - started
        cpu = time.process_time() - cpu0
        sandbox = await proc.command("stats")
    late.sort()
    return {
        "calls": n_calls,
        "failures": len(failures),
        "first_failure": failures[0] if failures else None,
        "resolutions": len(late),
        "late_p50_ms": 1000 * late[len(late) // 2] if late else None,
        "late_max_ms": 1000 * late[-1] if late else None,
        # Which expectation was latest: the worst lateness per step (index into the bench scenario).
        "late_max_ms_by_step": {i: round(1000 * v, 1) for i, v in sorted(by_step.items())},
        "all_on_time": not failures and bool(late) and late[-1] <= ON_TIME_S,
        "seconds": elapsed,
        # Where the time goes: the runner process's CPU and event-loop lag, and the sandbox process's
        # timer lateness (a late sandbox delays events before they exist; that is not the runner's).
        "runner_cpu_s": round(cpu, 2),
        "runner_loop_lag_max_ms": lag.max_ms,
        "runner_loop_lag_p99_ms": lag.p99_ms,
        "sandbox_timer_lateness": sandbox.get("timer_lateness"),
        # Frames the sandbox dropped because this process read its WebSocket too slowly (a lost transcript
        # leaves a say "sent" for good).
        "sandbox_frames_dropped": sandbox.get("frames_dropped"),
    }


class _LoopLag:
    """How late a 10 ms tick of this process's event loop runs (a busy loop delays every event)."""

    TICK_S = 0.010

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.TICK_S)
            self.lags.append(time.monotonic() - before - self.TICK_S)

    async def __aenter__(self) -> _LoopLag:
        self._task = asyncio.create_task(self._tick())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.lags.sort()

    @property
    def max_ms(self) -> float | None:
        return round(1000 * self.lags[-1], 1) if self.lags else None

    @property
    def p99_ms(self) -> float | None:
        return round(1000 * self.lags[int(0.99 * (len(self.lags) - 1))], 1) if self.lags else None


async def search_max_concurrent(start: int, limit: int = 800) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    best = 0
    n = start
    while n <= limit:
        result = await concurrent_calls(n)
        runs.append(result)
        if not result["all_on_time"]:
            break
        best = n
        n *= 2
    return {"max_calls": best, "runs": runs}
