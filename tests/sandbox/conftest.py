"""Fixtures for the sandbox tests: a real EmbeddedSandbox on loopback, HTTP and WebSocket clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from tui.sandbox import EmbeddedSandbox, SandboxSettings
from tui.voipbin.timeparse import parse_time

# Fast but not so fast that a loaded CI machine reorders things on its own.
# Unlimited transcription streams: at this speed five simulated minutes pass in under 8 s.
FAST = {"speed": 40.0, "random_seed": 7, "transcribe_stream_limit": 0}

GREETING = (
    "Hello. This is the VoIPBIN real-time voice interaction test. You can speak now and your speech "
    "will be transcribed. The call will stay open for you to test the Speaking API."
)


def instant(stamp: object) -> datetime:
    """A timestamp as the client reads it. Go trims trailing zeros from fractions ("…50.1306Z" is earlier
    than "…50.130629Z"), so the strings do not sort as the instants do."""
    parsed = parse_time(stamp)
    assert parsed is not None, f"not a timestamp: {stamp!r}"
    return parsed


def seed_call_body(target_name: str = "quickstart-phone", sleep_ms: int = 600000) -> dict[str, Any]:
    """The POST /calls body of the quickstart page, verbatim apart from the placeholders."""
    return {
        "source": {"type": "tel", "target": "+15551234567"},
        "destinations": [{"type": "extension", "target_name": target_name}],
        "actions": [
            {"type": "transcribe_start", "option": {"language": "en-US"}},
            {"type": "talk", "option": {"text": GREETING, "gender": "female", "language": "en-US"}},
            {"type": "sleep", "option": {"duration": sleep_ms}},
        ],
    }


SandboxFactory = Callable[..., Awaitable[EmbeddedSandbox]]


@pytest.fixture
async def start_sandbox() -> AsyncIterator[SandboxFactory]:
    started: list[EmbeddedSandbox] = []

    async def start(**overrides: Any) -> EmbeddedSandbox:
        sandbox = EmbeddedSandbox(SandboxSettings(**{**FAST, **overrides}))
        await sandbox.start()
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        await sandbox.stop()


@pytest.fixture
async def sandbox(start_sandbox: SandboxFactory) -> EmbeddedSandbox:
    return await start_sandbox()


async def login(sandbox: EmbeddedSandbox) -> str:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            sandbox.root_url + "/auth/login",
            json={"username": sandbox.username, "password": sandbox.password},
        )
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    assert isinstance(token, str)
    return token


@pytest.fixture
async def token(sandbox: EmbeddedSandbox) -> str:
    return await login(sandbox)


@pytest.fixture
async def api(sandbox: EmbeddedSandbox, token: str) -> AsyncIterator[httpx.AsyncClient]:
    """REST client on /v1.0 using the JWT as a Bearer header (what a real client does)."""
    async with httpx.AsyncClient(
        base_url=sandbox.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:
        yield client


@pytest.fixture
async def control(sandbox: EmbeddedSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox.control_url, timeout=10) as client:
        yield client


class EventLog:
    """Collects every frame of one WebSocket with its arrival time."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[tuple[float, Any]] = []
        self.raw: list[str | bytes] = []
        self.closed: BaseException | None = None
        self._changed = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                self.raw.append(message)
                self.frames.append((time.monotonic(), json.loads(message)))
                self._changed.set()
        except websockets.ConnectionClosed as exc:
            self.closed = exc
        finally:
            self.closed = self.closed or ConnectionError("closed")
            self._changed.set()

    @property
    def payloads(self) -> list[Any]:
        return [payload for _, payload in self.frames]

    def matching(self, predicate: Callable[[Any], bool]) -> list[Any]:
        return [p for p in self.payloads if predicate(p)]

    async def wait_for(self, predicate: Callable[[Any], bool], timeout: float = 10.0, count: int = 1) -> list[Any]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.matching(predicate)
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {count} matching frame(s); got {len(found)}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=remaining)

    async def wait_closed(self, timeout: float = 5.0) -> BaseException:
        await asyncio.wait_for(asyncio.shield(self._task), timeout=timeout)
        assert self.closed is not None
        return self.closed

    async def quiet(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def close(self) -> None:
        await self.ws.close()
        with contextlib.suppress(BaseException):
            await self._task


@pytest.fixture
async def open_events(sandbox: EmbeddedSandbox, token: str) -> AsyncIterator[Callable[..., Awaitable[EventLog]]]:
    logs: list[EventLog] = []

    async def open_(*topics: str, url: str | None = None) -> EventLog:
        ws = await websockets.connect(url or f"{sandbox.ws_url}?token={token}")
        log = EventLog(ws)
        logs.append(log)
        if topics:
            await ws.send(json.dumps({"type": "subscribe", "topics": list(topics)}))
            # No acknowledgement exists; give the server a moment to apply the subscription.
            await asyncio.sleep(0.05)
        return log

    yield open_
    for log in logs:
        await log.close()


def is_call(frame: Any) -> bool:
    return isinstance(frame, dict) and frame.get("direction") in ("incoming", "outgoing") and "status" in frame


def is_groupcall(frame: Any) -> bool:
    return isinstance(frame, dict) and "ring_method" in frame


def is_transcribe(frame: Any) -> bool:
    return isinstance(frame, dict) and "reference_type" in frame and frame.get("status") in ("progressing", "done")


def is_transcript(frame: Any) -> bool:
    return isinstance(frame, dict) and "tm_transcript" in frame


def is_speech(frame: Any) -> bool:
    return isinstance(frame, dict) and "streaming_id" in frame


async def wait_call_status(
    api: httpx.AsyncClient, call_id: str, statuses: str | tuple[str, ...], timeout: float = 10.0
) -> dict[str, Any]:
    wanted = (statuses,) if isinstance(statuses, str) else statuses
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        response = await api.get(f"/calls/{call_id}")
        if response.status_code == 200:
            last = response.json()
            if last["status"] in wanted:
                return dict(last)
        await asyncio.sleep(0.01)
    raise AssertionError(f"call {call_id} never reached {wanted}; last seen {last}")


async def place_seed_call(api: httpx.AsyncClient, **kwargs: Any) -> tuple[dict[str, Any], str]:
    response = await api.post("/calls", json=seed_call_body(**kwargs))
    assert response.status_code == 200, response.text
    groupcall = response.json()["groupcalls"][0]
    return groupcall, groupcall["call_ids"][0]


class RawWebSocket:
    """A minimal WebSocket client that never answers pings and writes frames by hand.

    Used to check what a normal library hides: server pings, the pong deadline, and whether the server
    closed with a close frame or just dropped TCP.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, protocol: Any) -> None:
        self.reader = reader
        self.writer = writer
        self.protocol = protocol
        self.pings: list[float] = []
        self.texts: list[str] = []
        self.close_frame_received = False
        self.eof_at: float | None = None
        self._task = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def connect(cls, url: str) -> RawWebSocket:
        from websockets.client import ClientProtocol
        from websockets.http11 import Response
        from websockets.uri import parse_uri

        uri = parse_uri(url)
        protocol = ClientProtocol(uri)
        reader, writer = await asyncio.open_connection(uri.host, uri.port)
        protocol.send_request(protocol.connect())
        writer.write(b"".join(protocol.data_to_send()))
        while True:
            data = await reader.read(65536)
            assert data, "connection closed during the handshake"
            protocol.receive_data(data)
            events = protocol.events_received()
            if any(isinstance(e, Response) for e in events):
                break
        response = next(e for e in events if isinstance(e, Response))
        assert response.status_code == 101, response.status_code
        protocol.data_to_send()  # discard; we write our own frames from here on
        return cls(reader, writer, protocol)

    async def _read(self) -> None:
        from websockets.frames import Frame, Opcode

        while True:
            data = await self.reader.read(65536)
            if not data:
                self.eof_at = time.monotonic()
                return
            self.protocol.receive_data(data)
            for event in self.protocol.events_received():
                if isinstance(event, Frame):
                    if event.opcode == Opcode.PING:
                        self.pings.append(time.monotonic())
                    elif event.opcode == Opcode.TEXT:
                        self.texts.append(bytes(event.data).decode())
                    elif event.opcode == Opcode.CLOSE:
                        self.close_frame_received = True
            # Never flush protocol.data_to_send(): that would send the automatic pongs.
            self.protocol.data_to_send()

    def _frame(self, opcode: int, payload: bytes) -> bytes:
        import os
        import struct

        mask = os.urandom(4)
        header = bytes([0x80 | opcode])
        length = len(payload)
        if length < 126:
            header += bytes([0x80 | length])
        elif length < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", length)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return header + mask + masked

    async def send_text(self, text: str) -> None:
        self.writer.write(self._frame(0x1, text.encode()))
        await self.writer.drain()

    async def send_binary(self, data: bytes) -> None:
        self.writer.write(self._frame(0x2, data))
        await self.writer.drain()

    async def send_pong(self) -> None:
        self.writer.write(self._frame(0xA, b""))
        await self.writer.drain()

    async def wait_eof(self, timeout: float) -> float:
        await asyncio.wait_for(asyncio.shield(self._task), timeout=timeout)
        assert self.eof_at is not None
        return self.eof_at

    @property
    def open(self) -> bool:
        return self.eof_at is None

    def stop_reading(self) -> None:
        """Leave incoming data unread so the server's send buffers fill up."""
        self._task.cancel()

    async def close(self) -> None:
        self._task.cancel()
        self.writer.close()
        with contextlib.suppress(BaseException):
            await self.writer.wait_closed()
