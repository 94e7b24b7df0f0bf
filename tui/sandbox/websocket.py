"""``GET /v1.0/ws``: authentication before the upgrade, subscribe/unsubscribe, keepalive, delivery.

Behaviour reproduced from the real server:
- bad or missing credentials -> HTTP 401 with the JSON envelope, no upgrade;
- nothing is sent on connect and no frame ever acknowledges a subscription;
- unparseable JSON is ignored; any invalid topic in a subscribe *or* unsubscribe message, or any binary
  frame, drops the TCP connection without a close frame;
- a ping every ``ping_interval`` seconds on a fixed schedule; the read deadline (``pong_timeout``) is
  extended only by pongs, so a client that never pongs is dropped even if it keeps talking;
- frames go into a per-connection buffer of ``ws_buffer_frames``; when it is full, new frames are
  dropped for that connection only.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tui.sandbox import errors
from tui.sandbox.auth import Identity
from tui.sandbox.clock import LatenessStats
from tui.sandbox.encoding import dumps, parse_uuid
from tui.sandbox.wsprotocol import SCOPE_EXTENSION, SandboxWSProtocol

if TYPE_CHECKING:
    from tui.sandbox.core import SandboxCore

log = logging.getLogger("tui.sandbox")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_ids = itertools.count(1)


@dataclass
class WsStats:
    connections_total: int = 0
    pings_sent: int = 0
    pings_late: int = 0
    pong_timeouts: int = 0
    frames_sent: int = 0
    frames_dropped: int = 0
    ping_lateness: LatenessStats = field(default_factory=LatenessStats)


def topic_is_valid(topic: str, identity: Identity) -> bool:
    parts = topic.split(":")
    if len(parts) < 2:
        return False
    scope_id = parse_uuid(parts[1])
    if scope_id is None or scope_id.int == 0:
        return False
    if parts[0] == "customer_id":
        return identity.is_customer_admin and str(scope_id) == identity.customer_id
    if parts[0] == "agent_id":
        return identity.agent_id is not None and str(scope_id) == identity.agent_id
    return False


def parse_hook(text: str) -> tuple[str, list[str]] | None:
    """Decode a client message like Go's json.Unmarshal into {Type string; Topics []string}.

    Go matches keys case-insensitively and fails on wrong types; a failure means "ignore the message".
    """
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if data is None:
        return "", []
    if not isinstance(data, dict):
        return None
    kind: Any = ""
    topics: Any = None
    for key, value in data.items():
        lowered = key.lower()
        if lowered == "type":
            kind = value
        elif lowered == "topics":
            topics = value
    if kind is None:
        kind = ""
    if not isinstance(kind, str):
        return None
    if topics is None:
        return kind, []
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        return None
    return kind, list(topics)


class Connection:
    """One accepted WebSocket: subscriptions, keepalive timers and the bounded frame buffer."""

    def __init__(self, core: SandboxCore, protocol: SandboxWSProtocol, identity: Identity) -> None:
        self.id = next(_ids)
        self.core = core
        self.protocol = protocol
        self.identity = identity
        self.topics: list[str] = []
        self.closed = False
        self._buffer: collections.deque[bytes] = collections.deque()
        self._limit = core.settings.ws_buffer_frames
        self._stats = core.ws_stats
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._interval = core.settings.ping_interval
        self._pong_timeout = core.settings.pong_timeout
        self._next_ping = loop.time() + self._interval
        self._read_deadline = loop.time() + self._pong_timeout
        self._ping_handle: asyncio.TimerHandle | None = loop.call_at(self._next_ping, self._ping)
        self._deadline_handle: asyncio.TimerHandle | None = loop.call_at(self._read_deadline, self._check_deadline)
        protocol.on_pong = self._pong
        protocol.on_writable = self._drain

    # --- delivery ------------------------------------------------------------------------------

    def deliver(self, frame: bytes) -> None:
        if self.closed:
            return
        if not self._buffer and self.protocol.can_write:
            self._write(frame)
            return
        if len(self._buffer) >= self._limit:
            self._stats.frames_dropped += 1
            return
        self._buffer.append(frame)

    def _drain(self) -> None:
        while self._buffer and self.protocol.can_write and not self.closed:
            self._write(self._buffer.popleft())

    def _write(self, frame: bytes) -> None:
        if not self.protocol.open:
            self.close()
            return
        try:
            self.protocol.write_text(frame)
        except Exception:  # the peer is mid-close; never let a timer callback raise
            self.close()
            return
        self._stats.frames_sent += 1

    # --- keepalive -----------------------------------------------------------------------------

    def _ping(self) -> None:
        now = self._loop.time()
        late = now - self._next_ping
        self._stats.ping_lateness.record(late)
        if late * 1000.0 > 100.0:
            self._stats.pings_late += 1
        if not self.protocol.open:
            self.close()
            return
        try:
            self.protocol.write_ping()
        except Exception:
            self.close()
            return
        self._stats.pings_sent += 1
        # A ticker: keep the fixed schedule and skip ticks that were missed entirely.
        self._next_ping += self._interval
        while self._next_ping <= now:
            self._next_ping += self._interval
        self._ping_handle = self._loop.call_at(self._next_ping, self._ping)

    def _pong(self) -> None:
        self._read_deadline = self._loop.time() + self._pong_timeout

    def _check_deadline(self) -> None:
        if self.closed:
            return
        if self._loop.time() >= self._read_deadline:
            self._stats.pong_timeouts += 1
            log.info("websocket %d: no pong for %.1f s, dropping", self.id, self._pong_timeout)
            self.drop()
            return
        self._deadline_handle = self._loop.call_at(self._read_deadline, self._check_deadline)

    # --- subscriptions -------------------------------------------------------------------------

    def handle_text(self, text: str) -> bool:
        """Apply one client message; False means the connection must be dropped."""
        hook = parse_hook(text)
        if hook is None:
            return True
        kind, topics = hook
        if not all(topic_is_valid(topic, self.identity) for topic in topics):
            return False
        broker = self.core.broker
        if kind == "subscribe":
            for topic in topics:
                if topic not in self.topics:
                    self.topics.append(topic)
                    broker.subscribe(self, topic)
        elif kind == "unsubscribe":
            for topic in topics:
                if topic in self.topics:
                    self.topics.remove(topic)
                    broker.unsubscribe(self, topic)
        return True

    # --- teardown ------------------------------------------------------------------------------

    def drop(self) -> None:
        self.close()
        self.protocol.drop()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for handle in (self._ping_handle, self._deadline_handle):
            if handle is not None:
                handle.cancel()
        self._ping_handle = self._deadline_handle = None
        self._buffer.clear()
        self.core.broker.remove(self, self.topics)
        self.topics.clear()
        self.protocol.on_pong = None
        self.protocol.on_writable = None
        self.core.connections.discard(self)


async def websocket_endpoint(core: SandboxCore, scope: Scope, receive: Receive, send: Send) -> None:
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    request_id = errors.safe_request_id(headers.get("x-request-id")) or errors.new_request_id()
    rid_header = (b"x-request-id", request_id.encode())
    try:
        identity = core.auth.authenticate(headers, scope.get("query_string", b"").decode("latin-1"), core.clock.now())
    except errors.ApiError as exc:
        await _deny(send, exc.http_status, dumps(exc.envelope(request_id)).encode(), rid_header)
        return
    extension = scope.get("extensions", {}).get(SCOPE_EXTENSION)
    protocol = extension.get("protocol") if isinstance(extension, dict) else None
    if not isinstance(protocol, SandboxWSProtocol):
        # Served by something other than the sandbox's uvicorn protocol: keepalive cannot work.
        body = dumps(errors.internal().envelope(request_id)).encode()
        await _deny(send, 500, body, rid_header)
        return
    await send({"type": "websocket.accept", "headers": [rid_header]})
    connection = Connection(core, protocol, identity)
    core.connections.add(connection)
    core.ws_stats.connections_total += 1
    try:
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.disconnect":
                break
            if kind != "websocket.receive":
                continue
            text = message.get("text")
            if text is None:
                # A binary frame: the server stops reading and closes the socket.
                connection.drop()
                break
            if not connection.handle_text(text):
                connection.drop()
                break
    finally:
        connection.close()


async def _deny(send: Send, status: int, body: bytes, rid_header: tuple[bytes, bytes]) -> None:
    await send(
        {
            "type": "websocket.http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                rid_header,
            ],
        }
    )
    await send({"type": "websocket.http.response.body", "body": body})
