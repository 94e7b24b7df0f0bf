"""The benchmarks' VoIPBIN: the sandbox in its own process, plus two measuring hooks.

Running it in a subprocess keeps the sandbox's work off the event loop being measured. The process
takes one JSON command per line on stdin and answers one JSON line on stdout:

- ``{"cmd": "inject", "rate": 50, "count": 500, "tag": "lat"}`` publishes ``count`` transcripts on
  the newest live transcribe at ``rate`` per second, each through the sandbox's normal publishing path
  (topics, frame encoding, per-connection queues). Each message ends with ``@<monotonic time>`` taken
  just before the frame is handed to the WebSocket writers: "the frame leaves the sandbox".
- ``{"cmd": "status"}`` tells how many were published and whether the injection is done.
- ``{"cmd": "says"}`` returns (and forgets) the arrival times of ``POST /speakings/{id}/say`` requests,
  taken when the request reaches the server, before it is parsed.
- ``{"cmd": "quit"}``.

``time.monotonic()`` is one clock for every process on the machine (CLOCK_MONOTONIC), so times taken
here and in the measuring process can be subtracted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bench.child import ChildProcess

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MARK = "@"


def stamp_of(text: str) -> float | None:
    """The send time embedded in an injected transcript's text."""
    head, sep, tail = text.rpartition(MARK)
    if not sep or not head:
        return None
    try:
        return float(tail)
    except ValueError:
        return None


# --- the child process ----------------------------------------------------------------------------


class _SayClock:
    """ASGI middleware that notes when each /say request arrives."""

    def __init__(self, app: ASGIApp, arrivals: list[tuple[float, str]]) -> None:
        self.app = app
        self.arrivals = arrivals

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") == "http" and str(scope.get("path", "")).endswith("/say"):
            self.arrivals.append((time.monotonic(), str(scope.get("path"))))
        await self.app(scope, receive, send)


async def _serve(speed: float) -> None:
    import tui.sandbox.app as sandbox_app
    import tui.sandbox.server as sandbox_server
    from tui.sandbox import EmbeddedSandbox, SandboxSettings
    from tui.sandbox.encoding import new_id
    from tui.sandbox.models import Transcript

    arrivals: list[tuple[float, str]] = []
    original = sandbox_app.build_app

    def build(core: Any) -> Any:
        return _SayClock(original(core), arrivals)

    # Only in this benchmark process: wrap the sandbox's ASGI app with the /say stopwatch.
    sandbox_server.build_app = build  # type: ignore[attr-defined]
    settings = SandboxSettings(
        speed=speed, caller_script=[], random_seed=1, ws_buffer_frames=100_000, transcribe_stream_limit=0
    )
    async with EmbeddedSandbox(settings) as sb:
        core = sb.core
        assert core is not None
        print(json.dumps({
            "api_url": sb.api_url, "ws_url": sb.ws_url, "control_url": sb.control_url,
            "accesskey": sb.accesskey, "customer_id": sb.customer_id,
        }), flush=True)  # fmt: skip
        state: dict[str, Any] = {"sent": 0, "done": True, "task": None}

        async def inject(rate: float, count: int, tag: str) -> None:
            transcribes = [t for t in core.store.transcribes.values() if t.status == "progressing"]
            if not transcribes:
                state["error"] = "no live transcribe"
                state["done"] = True
                return
            tr = max(transcribes, key=lambda t: t.tm_create)
            loop = asyncio.get_running_loop()
            start = loop.time()
            for i in range(count):
                due = start + i / rate
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                now = time.monotonic()
                transcript = Transcript(
                    id=new_id(),
                    customer_id=tr.customer_id,
                    transcribe_id=tr.id,
                    direction="in",
                    message=f"bench {tag} {i} {MARK}{now:.6f}",
                    offset_seconds=now - start,
                    tm_create=core.store.stamp(),
                )
                core.store.transcripts.setdefault(tr.id, []).append(transcript)
                core.publish("transcript_created", transcript.to_json())
                state["sent"] = i + 1
            state["done"] = True

        reader = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            raw = await reader.readline()
            if not raw:
                break
            cmd = json.loads(raw)
            name = cmd.get("cmd")
            reply: dict[str, Any] = {"ok": True}
            if name == "inject":
                state.update(sent=0, done=False, error=None)
                state["task"] = asyncio.create_task(
                    inject(float(cmd["rate"]), int(cmd["count"]), str(cmd.get("tag", "x")))
                )
            elif name == "status":
                reply.update(sent=state["sent"], done=state["done"], error=state.get("error"))
            elif name == "says":
                reply["arrivals"] = list(arrivals)
                arrivals.clear()
            elif name == "quit":
                print(json.dumps(reply), flush=True)
                break
            else:
                reply = {"ok": False, "error": f"unknown command {name!r}"}
            print(json.dumps(reply), flush=True)
        task = state.get("task")
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


# --- the measuring side ---------------------------------------------------------------------------


class BenchServer(ChildProcess):
    """``async with BenchServer() as srv``: a sandbox process and its command channel."""

    def __init__(self, speed: float = 1.0) -> None:
        super().__init__(["bench.server", "--speed", str(speed)], quit_line=json.dumps({"cmd": "quit"}))

    async def command(self, cmd: str, **args: Any) -> dict[str, Any]:
        return await self.request(json.dumps({"cmd": cmd, **args}))

    async def inject(self, rate: float, count: int, tag: str) -> None:
        await self.command("inject", rate=rate, count=count, tag=tag)

    async def wait_injected(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while True:
            status = await self.command("status")
            if status.get("error"):
                raise RuntimeError(f"bench server: {status['error']}")
            if status["done"]:
                return int(status["sent"])
            if time.monotonic() > deadline:
                raise TimeoutError("injection did not finish")
            await asyncio.sleep(0.1)

    async def say_arrivals(self) -> list[float]:
        reply = await self.command("says")
        return [float(t) for t, _ in reply["arrivals"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("--speed", type=float, default=1.0)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.speed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
