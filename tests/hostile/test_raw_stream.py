"""The event channel against a WebSocket server that refuses, stalls or floods on purpose."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from tests.hostile import raw
from tests.hostile.raw import RawServer
from tui.voipbin.credentials import Credentials
from tui.voipbin.events import ConnectionState
from tui.voipbin.stream import EventStream, StreamItem

KEY = "vb_HOSTILEstreamKEY0123456789"
pytestmark = pytest.mark.timeout(60)


class Items:
    def __init__(self) -> None:
        self.items: list[StreamItem] = []

    @property
    def states(self) -> list[ConnectionState]:
        return [i for i in self.items if isinstance(i, ConnectionState)]

    async def until(self, predicate: object, timeout: float = 10.0) -> None:
        assert callable(predicate)
        async with asyncio.timeout(timeout):
            while not predicate(self):
                await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def collecting(stream: EventStream) -> AsyncIterator[Items]:
    items = Items()

    async def consume() -> None:
        async for item in stream:
            items.items.append(item)

    task = asyncio.create_task(consume())
    try:
        yield items
    finally:
        await stream.close()
        await asyncio.wait_for(task, 5.0)


def stream_for(server: RawServer, **kwargs: object) -> EventStream:
    options: dict[str, object] = {"backoff_initial": 0.05, "backoff_max": 0.2, "jitter": 0.0, **kwargs}
    return EventStream(server.ws_url, Credentials(accesskey=KEY), ["t"], **options)  # type: ignore[arg-type]


async def test_an_accesskey_refused_after_it_worked_is_retried_until_it_works_again() -> None:
    async with RawServer(raw.ws_refuse_then_accept(refusals=4)) as server, collecting(stream_for(server)) as got:
        await got.until(lambda g: any(s.state == "reconnected" for s in g.states))
    names = [s.state for s in got.states]
    assert names[:2] == ["connecting", "connected"]
    refused = [s for s in got.states if s.unauthorized]
    assert len(refused) == 4
    assert all(s.state == "reconnecting" and not s.fatal for s in refused)
    assert all(s.summary().startswith("unauthorized, retrying") for s in refused)
    assert all(KEY not in (s.error or "") for s in got.states)
    back = next(s for s in got.states if s.state == "reconnected")
    assert back.gap_started is not None  # the gap is reported so a live call backfills
    assert not any(s.fatal for s in got.states)


async def test_an_accesskey_refused_from_the_start_is_still_fatal() -> None:
    async def always_401(request: raw.RawRequest, conn: raw.Conn) -> None:
        await conn.respond_json(401, raw.envelope("authentication failed", reason="UNAUTHENTICATED"))

    async with RawServer(always_401) as server:
        items = await asyncio.wait_for(_drain(stream_for(server)), 10.0)
    assert [s.state for s in items if isinstance(s, ConnectionState)] == ["connecting", "closed"]
    last = items[-1]
    assert isinstance(last, ConnectionState)
    assert last.fatal
    assert last.error is not None
    assert "check the accesskey" in last.error


async def _drain(stream: EventStream) -> list[StreamItem]:
    return [item async for item in stream]


async def test_a_message_that_never_finishes_does_not_keep_the_channel_connected() -> None:
    async with RawServer(raw.ws_never_finished()) as server:
        stream = stream_for(server, message_deadline=0.5, backoff_initial=5.0, backoff_max=5.0)
        async with collecting(stream) as got:
            await got.until(lambda g: any(s.state == "reconnecting" for s in g.states), timeout=5.0)
            assert not stream.connected
    drop = next(s for s in got.states if s.state == "reconnecting")
    assert drop.error is not None
    assert "not finished within 0.5 s" in drop.error


async def test_a_message_over_the_size_limit_drops_the_connection() -> None:
    async with RawServer(raw.ws_oversized(total=8 * 1024 * 1024)) as server:
        stream = stream_for(server, max_frame_bytes=1024 * 1024, backoff_initial=5.0, backoff_max=5.0)
        async with collecting(stream) as got:
            await got.until(lambda g: any(s.state == "reconnecting" for s in g.states), timeout=5.0)
    drop = next(s for s in got.states if s.state == "reconnecting")
    assert drop.error is not None
    assert "1009" in drop.error or "too big" in drop.error.lower()
    assert not [i for i in got.items if not isinstance(i, ConnectionState)]
