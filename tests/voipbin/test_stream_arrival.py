"""An event's arrival is when its message was read off the socket, not when the consumer got to it."""

from __future__ import annotations

import asyncio
import json
import time

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from tests.voipbin import samples
from tui.voipbin.stream_attempt import StampedConnection, classify_received, receive_message


async def test_a_message_that_waited_in_the_queue_keeps_the_time_it_arrived() -> None:
    sent = asyncio.Event()

    async def handler(conn: ServerConnection) -> None:
        for status in ("ringing", "progressing", "hangup"):
            await conn.send(json.dumps(samples.call(status)))
        sent.set()
        await conn.wait_closed()

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}", create_connection=StampedConnection) as ws:
            await sent.wait()
            await asyncio.sleep(0.3)  # the consumer is busy: the messages wait in the connection's queue
            read_at = time.monotonic()
            events = [classify_received(ws, await receive_message(ws, 5.0)) for _ in range(3)]
    assert [e.call.status for e in events if e.call is not None] == ["ringing", "progressing", "hangup"]
    for event in events:
        assert event.received_mono < read_at - 0.25
        assert abs((time.time() - event.received_at) - (time.monotonic() - event.received_mono)) < 0.05
    assert events[0].received_mono <= events[1].received_mono <= events[2].received_mono
