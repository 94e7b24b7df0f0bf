"""A transport-abusing server: just enough HTTP/1.1 and WebSocket to misbehave on purpose.

It binds 127.0.0.1 on an OS-chosen port, serves a bounded number of connections, and every connection
ends by itself after ``lifetime`` seconds: a test that forgets it cannot hang the suite. Each test
gives it a :data:`Handler` (one per connection) built from the attacks below: gzip bombs, huge error
messages, answers trickled one byte at a time, ``Retry-After: 1e999``, a WebSocket that refuses and
then accepts, a WebSocket message that never finishes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import struct
import zlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

CUSTOMER_ID: Final = "5e4a0680-804e-11ec-8477-2fea5968d85b"
_WS_GUID: Final = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_HEAD_MAX: Final = 64 * 1024
_BODY_MAX: Final = 1024 * 1024


@dataclass(slots=True)
class RawRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def route(self) -> str:
        return self.path.split("?", 1)[0]

    @property
    def is_websocket(self) -> bool:
        return self.headers.get("upgrade", "").lower() == "websocket"


class Conn:
    """One accepted connection, handed to a handler."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int) -> None:
        self.reader = reader
        self.writer = writer
        self.number = number

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def respond(
        self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, *, reason: str = "X"
    ) -> None:
        head = {"Content-Length": str(len(body)), "Content-Type": "application/json", **(headers or {})}
        lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in head.items()]
        await self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    async def respond_json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        await self.respond(status, json.dumps(value).encode(), headers)


Handler = Callable[[RawRequest, Conn], Awaitable[None]]


@dataclass(slots=True)
class RawServer:
    """``async with RawServer(handler) as server``; ``server.api_url`` is the REST base."""

    handler: Handler
    max_connections: int = 50
    lifetime: float = 30.0
    requests: list[RawRequest] = field(default_factory=list)
    connections: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0, limit=_HEAD_MAX)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), 2.0)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1.0"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1.0/ws"

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.connections > self.max_connections:
            writer.close()
            return
        # The work runs in a task of its own: cancelling it at exit leaves asyncio's own connection
        # task to end normally (a cancelled one is reported as an error by the streams machinery).
        inner = asyncio.create_task(self._serve(Conn(reader, writer, self.connections)))
        self._tasks.add(inner)
        try:
            await asyncio.wait({inner})
        finally:
            self._tasks.discard(inner)
            inner.cancel()
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _serve(self, conn: Conn) -> None:
        with contextlib.suppress(TimeoutError, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            async with asyncio.timeout(self.lifetime):
                while True:
                    request = await _read_request(conn.reader)
                    if request is None:
                        break
                    self.requests.append(request)
                    await self.handler(request, conn)
                    if request.is_websocket or conn.writer.is_closing():
                        break


async def _read_request(reader: asyncio.StreamReader) -> RawRequest | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = [*lines[0].split(" ", 2), "", ""][:3]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    length = min(int(headers.get("content-length", "0") or 0), _BODY_MAX)
    body = await reader.readexactly(length) if length else b""
    return RawRequest(method, path, headers, body)


# -- pieces of answers ---------------------------------------------------------------------------------


def customer() -> dict[str, Any]:
    return {"id": CUSTOMER_ID, "name": "hostile test customer", "status": "active"}


def envelope(message: str, *, status: str = "INTERNAL", reason: str = "INTERNAL") -> dict[str, Any]:
    return {"error": {"status": status, "reason": reason, "request_id": "req_hostile", "message": message}}


def speaking(status: str = "active") -> dict[str, Any]:
    return {
        "id": "6a1f2b3c-0000-4000-8000-000000000001",
        "customer_id": CUSTOMER_ID,
        "reference_type": "call",
        "reference_id": "7b2e3c4d-0000-4000-8000-000000000002",
        "status": status,
    }


@lru_cache(maxsize=1)
def gzip_bomb() -> bytes:
    """A valid gzip body of about 1 MB that unpacks to 1 GiB of zeros (built in milliseconds).

    After a full flush the compressor's state is the same before every megabyte of zeros, so one
    compressed megabyte repeats; the trailer's CRC is that of 2**30 zero bytes.
    """
    zeros = bytes(1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    final_block = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc_of_one_gib_of_zeros = 0x5B64C2B0
    return first + again * 1023 + final_block + struct.pack("<II", crc_of_one_gib_of_zeros, (1 << 30) & 0xFFFFFFFF)


def deflate_bomb() -> bytes:
    """The same megabytes as a zlib-wrapped ``deflate`` body (64 MiB unpacked)."""
    zeros = bytes(1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, 15)
    return b"".join(comp.compress(zeros) for _ in range(64)) + comp.flush()


# -- HTTP attacks ----------------------------------------------------------------------------------------


def serve(routes: Mapping[str, Handler], fallback: Handler | None = None) -> Handler:
    """Dispatch on the path (without the query); ``/v1.0/customer`` answers a customer unless overridden."""

    async def handler(request: RawRequest, conn: Conn) -> None:
        route = routes.get(request.route)
        if route is None and request.route == "/v1.0/customer":
            await conn.respond_json(200, customer())
            return
        if route is None:
            route = fallback or not_found
        await route(request, conn)

    return handler


async def not_found(request: RawRequest, conn: Conn) -> None:
    await conn.respond_json(404, envelope("no such route", status="NOT_FOUND", reason="ROUTE_NOT_FOUND"))


def compressed(body: bytes, encoding: str = "gzip", status: int = 200) -> Handler:
    async def handler(request: RawRequest, conn: Conn) -> None:
        await conn.respond(status, body, {"Content-Encoding": encoding})

    return handler


def huge_error(size: int, status: int = 500) -> Handler:
    """An error envelope whose message is ``size`` characters (with a markup-looking start)."""
    # Built once, before any request: the client's timing must not include the server's work.
    body = json.dumps(envelope("[/x] " + "A" * size)).encode()

    async def handler(request: RawRequest, conn: Conn) -> None:
        await conn.respond(status, body)

    return handler


def trickle(interval: float, *, body: bytes = b'{"id":"x"}', headers_first: bool = True) -> Handler:
    """Headers at once (or not), then one byte every ``interval`` seconds: no single read ever times out."""

    async def handler(request: RawRequest, conn: Conn) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        payload = body if headers_first else head + body
        if headers_first:
            await conn.send(head)
        for i in range(len(payload)):
            await asyncio.sleep(interval)
            await conn.send(payload[i : i + 1])

    return handler


def rate_limited(retry_after: str) -> Handler:
    async def handler(request: RawRequest, conn: Conn) -> None:
        await conn.respond_json(
            429,
            envelope("slow down", status="RESOURCE_EXHAUSTED", reason="RATE_LIMIT_EXCEEDED"),
            {"Retry-After": retry_after},
        )

    return handler


# -- WebSocket --------------------------------------------------------------------------------------------


async def ws_accept(request: RawRequest, conn: Conn) -> None:
    key = request.headers.get("sec-websocket-key", "")
    accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
    await conn.send(
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
        ).encode()
    )


def ws_frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """A server frame (never masked)."""
    first = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        return bytes([first, n]) + payload
    if n < 1 << 16:
        return bytes([first, 126]) + struct.pack("!H", n) + payload
    return bytes([first, 127]) + struct.pack("!Q", n) + payload


async def _read_client_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    b1, b2 = await reader.readexactly(2)
    n = b2 & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", await reader.readexactly(2))
    elif n == 127:
        (n,) = struct.unpack("!Q", await reader.readexactly(8))
    mask = await reader.readexactly(4) if b2 & 0x80 else b"\0\0\0\0"
    data = bytearray(await reader.readexactly(min(n, _BODY_MAX)))
    for i in range(len(data)):
        data[i] ^= mask[i % 4]
    return b1 & 0x0F, bytes(data)


async def ws_keepalive(conn: Conn) -> None:
    """Answer the client's pings (and its close) until the connection ends: a "healthy" peer."""
    with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
        while True:
            opcode, data = await _read_client_frame(conn.reader)
            if opcode == 0x9:
                await conn.send(ws_frame(0xA, data))
            elif opcode == 0x8:
                await conn.send(ws_frame(0x8, data[:2]))
                return


def ws_refuse_then_accept(refusals: int, after_first: Callable[[Conn], Awaitable[None]] | None = None) -> Handler:
    """Connection 1 is accepted and dropped after a frame; the next ``refusals`` handshakes get 401;
    then handshakes are accepted and kept alive. REST answers a customer throughout."""
    state = {"handshakes": 0}

    async def handler(request: RawRequest, conn: Conn) -> None:
        if not request.is_websocket:
            await serve({})(request, conn)
            return
        state["handshakes"] += 1
        n = state["handshakes"]
        if 1 < n <= refusals + 1:
            await conn.respond_json(
                401, envelope("authentication failed", status="UNAUTHENTICATED", reason="UNAUTHENTICATED")
            )
            return
        await ws_accept(request, conn)
        if n == 1:
            await conn.send(ws_frame(0x1, b'{"not": "an event"}'))
            await asyncio.sleep(0.1)
            await conn.send(ws_frame(0x8, struct.pack("!H", 1011) + b"restarting"))
            return
        if after_first is not None:
            await after_first(conn)
        await ws_keepalive(conn)

    return handler


def ws_never_finished() -> Handler:
    """A handshake, the first fragment of a message, and then only pongs: it never finishes."""

    async def handler(request: RawRequest, conn: Conn) -> None:
        if not request.is_websocket:
            await serve({})(request, conn)
            return
        await ws_accept(request, conn)
        await conn.send(ws_frame(0x1, b'{"type":"call_created","data":{', fin=False))
        await ws_keepalive(conn)

    return handler


def ws_oversized(total: int, fragment: int = 256 * 1024) -> Handler:
    """One message of ``total`` bytes sent in fragments, each under any per-frame limit."""

    async def handler(request: RawRequest, conn: Conn) -> None:
        if not request.is_websocket:
            await serve({})(request, conn)
            return
        await ws_accept(request, conn)
        sent = 0
        chunk = b"a" * fragment
        with contextlib.suppress(ConnectionError):
            while sent < total:
                last = sent + fragment >= total
                await conn.send(ws_frame(0x1 if sent == 0 else 0x0, chunk, fin=last))
                sent += fragment
        await ws_keepalive(conn)

    return handler


def ws_flood(seconds: float, pad: int = 3000) -> Handler:
    """As many distinct unrecognised frames as the socket takes for ``seconds``, then a healthy peer."""

    async def handler(request: RawRequest, conn: Conn) -> None:
        if not request.is_websocket:
            await serve({})(request, conn)
            return
        await ws_accept(request, conn)
        end = asyncio.get_running_loop().time() + seconds
        n = 0
        filler = "x" * pad
        while asyncio.get_running_loop().time() < end:
            n += 1
            await conn.send(ws_frame(0x1, f'{{"flood": {n}, "pad": "{filler}"}}'.encode()))
        await ws_keepalive(conn)

    return handler
