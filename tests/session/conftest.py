"""Fixtures for session tests against the real sandbox over loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tui.sandbox import EmbeddedSandbox, SandboxSettings
from tui.session.account import Account
from tui.session.call_session import CallSession
from tui.session.record import SessionRecorder
from tui.session.updates import SessionUpdate
from tui.voipbin.rest import VoipbinClient

CALLER_LINES = [
    "Hi, this is a test of the transcription feature.",
    "I can hear the greeting clearly.",
    "Please read me the weather report.",
    "Now I am going to wait for a while.",
    "Thank you, that is all for today.",
]


async def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        await asyncio.sleep(0.02)


def settings(**overrides: Any) -> SandboxSettings:
    # Unlimited transcription streams: at this speed five simulated minutes pass in 15 s.
    base: dict[str, Any] = {"speed": 20.0, "random_seed": 7, "transcribe_stream_limit": 0}
    base.update(overrides)
    return SandboxSettings(**base)


@pytest.fixture
async def sandbox(request: pytest.FixtureRequest) -> AsyncIterator[EmbeddedSandbox]:
    marker = request.node.get_closest_marker("sandbox")
    overrides = dict(marker.kwargs) if marker else {}
    async with EmbeddedSandbox(settings(**overrides)) as sb:
        yield sb


@pytest.fixture
async def account(sandbox: EmbeddedSandbox) -> AsyncIterator[Account]:
    acc = Account(VoipbinClient(sandbox.api_url, accesskey=sandbox.accesskey), ping_interval=2.0, ping_timeout=4.0)
    await acc.start()
    yield acc
    await acc.close()


class Recorder:
    """Collects a session's updates for assertions."""

    def __init__(self) -> None:
        self.updates: list[SessionUpdate] = []

    def __call__(self, update: SessionUpdate) -> None:
        self.updates.append(update)

    def of(self, kind: type) -> list[Any]:
        return [u for u in self.updates if isinstance(u, kind)]


@pytest.fixture
async def session(account: Account, tmp_path: Any) -> AsyncIterator[tuple[CallSession, Recorder]]:
    rec = Recorder()
    s = CallSession(account, recorder=SessionRecorder(tmp_path / "session.jsonl", [account.client.secrets()[0]]))
    s.subscribe(rec)
    yield s, rec
    await s.close()


@pytest.fixture
async def control(sandbox: EmbeddedSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox.control_url) as client:
        yield client


async def server_transcripts(account: Account, transcribe_id: str) -> dict[str, str]:
    items = await account.client.list_transcripts(transcribe_id)
    return {t.id: t.message for t in items}
