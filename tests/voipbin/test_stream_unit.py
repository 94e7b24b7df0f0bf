"""EventStream pieces that need no server, and a silent drop the sandbox cannot produce.

The sandbox always answers pings (its WebSocket library does), so a peer that
completes the handshake and then goes silent is simulated here with a raw TCP
server. Everything else about the stream runs against the sandbox
(test_stream_sandbox.py).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
from collections.abc import AsyncIterator

import pytest

from tests.voipbin import samples
from tui.voipbin.credentials import Credentials
from tui.voipbin.events import ConnectionState
from tui.voipbin.stream import EventStream, backoff_delay, subscriptions_for

KEY = "vb_STREAMunitKEY0123456789"
_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def test_subscriptions_for() -> None:
    assert subscriptions_for(samples.CUSTOMER_ID) == [
        f"customer_id:{samples.CUSTOMER_ID}:call:call_",
        f"customer_id:{samples.CUSTOMER_ID}:groupcall:groupcall_",
        f"customer_id:{samples.CUSTOMER_ID}:transcribe:transcribe_",
        f"customer_id:{samples.CUSTOMER_ID}:transcript:transcript_",
    ]


def test_backoff_doubles_to_the_cap_without_jitter() -> None:
    delays = [backoff_delay(n, initial=1.0, maximum=30.0, jitter=0.0) for n in range(1, 9)]
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert backoff_delay(10_000, jitter=0.0) == 30.0


def test_backoff_jitter_stays_in_band() -> None:
    rng = random.Random(7)
    for attempt in range(1, 10):
        base = min(30.0, 2.0 ** (attempt - 1))
        for _ in range(50):
            d = backoff_delay(attempt, jitter=0.2, rng=rng)
            assert base * 0.8 - 1e-9 <= d <= base * 1.2 + 1e-9
    values = {round(backoff_delay(3, jitter=0.2, rng=rng), 6) for _ in range(20)}
    assert len(values) > 1  # jitter really varies


async def _silent_server(connections: list[int]) -> asyncio.Server:
    """Accept the WebSocket upgrade, then never answer anything (no pongs, no frames)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        request = await reader.readuntil(b"\r\n\r\n")
        key = ""
        for line in request.decode("latin-1").split("\r\n"):
            if line.lower().startswith("sec-websocket-key:"):
                key = line.split(":", 1)[1].strip()
        accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
        writer.write(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        try:
            while await reader.read(4096):
                pass  # swallow pings and subscribe messages; answer nothing
        finally:
            writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def _first_states(stream: EventStream, wanted: int, timeout: float) -> list[ConnectionState]:
    states: list[ConnectionState] = []

    async def collect() -> None:
        async for item in stream:
            if isinstance(item, ConnectionState):
                states.append(item)
                if len(states) >= wanted:
                    return

    await asyncio.wait_for(collect(), timeout)
    return states


@pytest.fixture
async def silent_url() -> AsyncIterator[tuple[str, list[int]]]:
    connections: list[int] = []
    server = await _silent_server(connections)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}/v1.0/ws", connections
    finally:
        server.close()


async def test_silent_drop_detected_by_client_pings(silent_url: tuple[str, list[int]]) -> None:
    url, connections = silent_url
    stream = EventStream(
        url,
        Credentials(accesskey=KEY),
        ["customer_id:x:call:call_"],
        ping_interval=0.2,
        ping_timeout=0.3,
        close_timeout=0.2,
        backoff_initial=0.05,
        jitter=0.0,
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    states = await _first_states(stream, 4, timeout=5.0)
    elapsed = loop.time() - started
    await stream.close()
    assert [s.state for s in states] == ["connecting", "connected", "reconnecting", "reconnected"]
    drop = states[2]
    assert drop.attempt == 1
    assert drop.delay == pytest.approx(0.05)
    assert drop.error is not None
    assert "keepalive" in drop.error
    assert KEY not in drop.error
    assert states[3].gap_started is not None
    assert states[3].gap_ended is not None
    assert states[3].gap_ended >= states[3].gap_started
    assert elapsed < 2.0  # detected within ping_interval + ping_timeout, not the 60 s server deadline
    assert len(connections) == 2


async def test_close_while_waiting_to_reconnect() -> None:
    # nothing listens on this port: every attempt fails, the stream waits, close() ends it at once
    stream = EventStream(
        "ws://127.0.0.1:9/v1.0/ws",
        Credentials(accesskey=KEY),
        [],
        backoff_initial=30.0,
        jitter=0.0,
        open_timeout=1.0,
    )
    states: list[ConnectionState] = []

    async def consume() -> None:
        async for item in stream:
            if isinstance(item, ConnectionState):
                states.append(item)
                if item.state == "reconnecting":
                    await stream.close()

    await asyncio.wait_for(consume(), 5.0)
    assert [s.state for s in states] == ["connecting", "reconnecting", "closed"]
    assert states[1].delay == 30.0
    assert states[1].error is not None
    assert KEY not in states[1].error
    assert not states[2].fatal


async def test_invalid_url_is_fatal() -> None:
    stream = EventStream("not a url", Credentials(accesskey=KEY), [])
    states = [item async for item in stream]
    assert [s.state for s in states if isinstance(s, ConnectionState)] == ["connecting", "closed"]
    last = states[-1]
    assert isinstance(last, ConnectionState)
    assert last.fatal


async def test_one_consumer_at_a_time(silent_url: tuple[str, list[int]]) -> None:
    url, _ = silent_url
    stream = EventStream(url, Credentials(accesskey=KEY), [])
    first = stream.events()
    assert isinstance(await anext(first), ConnectionState)
    with pytest.raises(RuntimeError):
        await anext(stream.events())
    await stream.close()
    await first.aclose()
