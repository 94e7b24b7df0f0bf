"""Fixtures for the client-library tests.

Integration tests run the real sandbox (``tui.sandbox.EmbeddedSandbox``) over
loopback HTTP and WebSocket; nothing of our own server is mocked.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

import httpx
import pytest

from tui.voipbin.rest import RequestRecord, VoipbinClient

if TYPE_CHECKING:
    from tui.sandbox import EmbeddedSandbox


# Fast but still realistic: a 3 s ring+answer takes 0.1 s; the greeting a few hundred ms.
DEFAULT_SPEED = 30.0


class SandboxFactory(Protocol):
    def __call__(self, **settings: Any) -> contextlib.AbstractAsyncContextManager[EmbeddedSandbox]: ...


@pytest.fixture
def sandbox_factory() -> SandboxFactory:
    """Start a sandbox with given settings: ``async with sandbox_factory(answer_mode="manual") as sb``."""

    @contextlib.asynccontextmanager
    async def start(**settings: Any) -> AsyncIterator[EmbeddedSandbox]:
        from tui.sandbox import EmbeddedSandbox, SandboxSettings

        settings.setdefault("speed", DEFAULT_SPEED)
        # At this speed five simulated minutes (the transcription stream limit) pass in 10 s.
        settings.setdefault("transcribe_stream_limit", 0)
        async with EmbeddedSandbox(SandboxSettings(**settings)) as sb:
            yield sb

    return start


@pytest.fixture
async def sandbox(sandbox_factory: SandboxFactory) -> AsyncIterator[EmbeddedSandbox]:
    async with sandbox_factory() as sb:
        yield sb


class Control:
    """The sandbox's control API (``/_sandbox``), which is not part of VoIPBIN."""

    def __init__(self, sb: EmbeddedSandbox) -> None:
        self._base = sb.control_url

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        async with httpx.AsyncClient(timeout=10.0) as http:
            resp = await http.post(self._base + path, json=body if body is not None else {})
            resp.raise_for_status()
            return resp.json() if resp.content else None

    async def faults(self, **faults: Any) -> Any:
        return await self.post("/faults", faults)

    async def answer(self, call_id: str) -> Any:
        return await self.post(f"/calls/{call_id}/answer")

    async def hangup(self, call_id: str) -> Any:
        return await self.post(f"/calls/{call_id}/hangup")

    async def speak(self, call_id: str, text: str) -> Any:
        return await self.post(f"/calls/{call_id}/speak", {"text": text})


@pytest.fixture
def control(sandbox: EmbeddedSandbox) -> Control:
    return Control(sandbox)


class Recorder:
    """Collects the client's RequestRecords."""

    def __init__(self) -> None:
        self.records: list[RequestRecord] = []

    def __call__(self, record: RequestRecord) -> None:
        self.records.append(record)

    def paths(self) -> list[tuple[str, str, int | None]]:
        return [(r.method, httpx.URL(r.url).path, r.status) for r in self.records]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def client(sandbox: EmbeddedSandbox, recorder: Recorder) -> AsyncIterator[VoipbinClient]:
    async with VoipbinClient(sandbox.api_url, accesskey=sandbox.accesskey, on_request=recorder) as c:
        yield c


async def eventually(
    probe: Callable[[], Awaitable[Any]],
    *,
    timeout: float = 5.0,
    interval: float = 0.05,
    what: str = "condition",
) -> Any:
    """Await ``probe()`` until it returns something truthy (exceptions count as "not yet")."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: BaseException | None = None
    while True:
        try:
            value = await probe()
        except Exception as exc:  # not ready yet (e.g. 404 right after POST /calls)
            last = exc
        else:
            if value:
                return value
        if loop.time() >= deadline:
            raise AssertionError(f"timed out waiting for {what}; last error: {last!r}")
        await asyncio.sleep(interval)
