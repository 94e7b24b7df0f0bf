"""Many concurrent requests on one client stay within a bounded number of connections."""

from __future__ import annotations

import asyncio

from tui.voipbin.bounded import IN_FLIGHT_MAX
from tui.voipbin.rest import LIMITS, VoipbinClient


async def test_a_burst_of_requests_waits_for_a_connection_instead_of_opening_one_each() -> None:
    open_now = 0
    most = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal open_now, most
        open_now += 1
        most = max(most, open_now)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    break
                await asyncio.sleep(0.01)
                body = b"{}"
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                    % (len(body), body)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            open_now -= 1
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = VoipbinClient(f"http://127.0.0.1:{port}/v1.0", accesskey="vb_connections", timeout=30)
    try:
        replies = await asyncio.gather(*(client._request("GET", "/calls/x") for _ in range(150)))
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()
    assert replies == [{}] * 150
    # Unbounded, 150 requests in flight opened ~150 connections (past the sandbox's cap of 256).
    assert LIMITS.max_connections is not None
    assert most <= LIMITS.max_connections
    # The pool never queues (its queue is rescanned per freed connection): requests wait at the gate.
    assert LIMITS.max_connections >= IN_FLIGHT_MAX
