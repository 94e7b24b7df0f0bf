"""A content-injecting proxy in front of the real sandbox: loopback only, bounded, and ours.

It forwards REST calls and the event WebSocket to a running sandbox and, on the way back, writes hostile
strings into the fields the console shows: customer, extension and number names, transcript messages,
call hangup reasons, error messages and reasons, raw frames and WebSocket close reasons. What to inject is
a ``HostilePlan``; everything else is passed through untouched, so the console sees a working VoIPBIN.

Bounds: one upstream HTTP client with a 5 s timeout, upstream bodies are small (the sandbox's), at most
``max_raw_frames`` injected frames per connection, and ``stop()`` ends every task within about a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
import websockets
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


@dataclass
class HostilePlan:
    """What the proxy writes into the traffic. Empty strings leave a field alone."""

    names: str = ""  # customer name, extension names, number names
    transcript: str = ""  # every transcript message (REST and frames) becomes this
    hangup_reason: str = ""  # calls' hangup_reason, once the call has hung up
    # (method, path suffix) → (http status, reason, message): answered by the proxy, not forwarded.
    fail: dict[tuple[str, str], tuple[int, str, str]] = field(default_factory=dict)
    raw_frames: list[str] = field(default_factory=list)  # sent to each WebSocket after its first subscribe
    close_reason: str = ""  # the first WebSocket is closed with this reason after ``close_after`` s
    close_after: float = 1.0
    max_raw_frames: int = 50


class HostileProxy:
    def __init__(self, upstream_root: str, plan: HostilePlan) -> None:
        self.upstream = upstream_root.rstrip("/")
        self.plan = plan
        self.root_url = ""
        self.requests = 0
        self.frames_rewritten = 0
        self.closed_once = False
        self._client = httpx.AsyncClient(timeout=5.0)
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None
        self._relays: set[asyncio.Task[Any]] = set()

    @property
    def api_url(self) -> str:
        return f"{self.root_url}/v1.0"

    # -- rewriting ----------------------------------------------------------------------------------------

    def rewrite(self, value: Any) -> Any:
        """The same JSON with the plan's strings written into the fields the console shows."""
        plan = self.plan
        if isinstance(value, list):
            return [self.rewrite(v) for v in value]
        if not isinstance(value, dict):
            return value
        out = {k: self.rewrite(v) for k, v in value.items()}
        if plan.transcript and isinstance(out.get("message"), str) and "transcribe_id" in out:
            out["message"] = plan.transcript
        if plan.names and isinstance(out.get("name"), str):
            out["name"] = plan.names
        if plan.hangup_reason and out.get("status") == "hangup" and "hangup_reason" in out:
            out["hangup_reason"] = plan.hangup_reason
        return out

    def _failure(self, method: str, path: str) -> Response | None:
        for (fail_method, suffix), (status, reason, message) in self.plan.fail.items():
            if method == fail_method and path.endswith(suffix):
                body = {"error": {"status": "INVALID_ARGUMENT", "reason": reason, "message": message}}
                body["error"]["request_id"] = "req-" + reason[:20]
                return Response(json.dumps(body), status_code=status, media_type="application/json")
        return None

    # -- HTTP ---------------------------------------------------------------------------------------------

    async def _http(self, request: Request) -> Response:
        self.requests += 1
        path = request.url.path
        failure = self._failure(request.method, path)
        if failure is not None:
            return failure
        url = self.upstream + path + (f"?{request.url.query}" if request.url.query else "")
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")}
        upstream = await self._client.request(request.method, url, headers=headers, content=await request.body())
        body = upstream.content
        if upstream.headers.get("content-type", "").startswith("application/json") and body:
            body = json.dumps(self.rewrite(json.loads(body)), ensure_ascii=False).encode()
        return Response(body, status_code=upstream.status_code, media_type=upstream.headers.get("content-type"))

    # -- WebSocket ----------------------------------------------------------------------------------------

    async def _ws(self, client: WebSocket) -> None:
        await client.accept()
        ws_url = self.upstream.replace("http://", "ws://", 1) + client.url.path
        if client.url.query:
            ws_url += "?" + client.url.query
        headers = {k: v for k, v in client.headers.items() if k.lower() == "authorization"}
        try:
            async with websockets.connect(ws_url, additional_headers=headers, max_size=1 << 20) as upstream:
                await self._relay(client, upstream)
        except (OSError, websockets.WebSocketException):
            with contextlib.suppress(Exception):
                await client.close(code=1011, reason="upstream failed")

    async def _relay(self, client: WebSocket, upstream: Any) -> None:
        plan = self.plan
        subscribed = asyncio.Event()

        async def down() -> None:
            async for message in upstream:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                try:
                    rewritten = json.dumps(self.rewrite(json.loads(text)), ensure_ascii=False)
                except ValueError:
                    rewritten = text
                if rewritten != text:
                    self.frames_rewritten += 1
                await client.send_text(rewritten)

        async def up() -> None:
            while True:
                try:
                    text = await client.receive_text()
                except WebSocketDisconnect:
                    return
                await upstream.send(text)
                if '"subscribe"' in text:
                    subscribed.set()

        async def inject() -> None:
            await subscribed.wait()
            for frame in plan.raw_frames[: plan.max_raw_frames]:
                await client.send_text(frame)
            if plan.close_reason and not self.closed_once:
                self.closed_once = True
                await asyncio.sleep(plan.close_after)
                # A close reason is at most 123 bytes on the wire.
                reason = plan.close_reason.encode()[:123].decode("utf-8", "ignore")
                await client.close(code=4000, reason=reason)
                raise asyncio.CancelledError

        tasks = [asyncio.create_task(c()) for c in (down, up, inject)]
        self._relays.update(tasks)
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._relays.difference_update(tasks)

    # -- life ---------------------------------------------------------------------------------------------

    async def start(self) -> HostileProxy:
        app = Starlette(
            routes=[
                WebSocketRoute("/v1.0/ws", self._ws),
                Route("/{path:path}", self._http, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
            ]
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        sock.setblocking(False)
        config = uvicorn.Config(app, log_config=None, log_level="critical", access_log=False, lifespan="off")
        server = _Quiet(config)
        self._task = asyncio.create_task(server.serve(sockets=[sock]))
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started, "the hostile proxy did not start"
        self._server, self._socket = server, sock
        self.root_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self

    async def stop(self) -> None:
        server, task = self._server, self._task
        if server is not None and task is not None:
            server.should_exit = True
            server.force_exit = True
            for relay in list(self._relays):
                relay.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 2.0)
            if not task.done():
                task.cancel()
        await self._client.aclose()
        if self._socket is not None:
            self._socket.close()

    async def __aenter__(self) -> HostileProxy:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


class _Quiet(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield

    def install_signal_handlers(self) -> None:
        return None
