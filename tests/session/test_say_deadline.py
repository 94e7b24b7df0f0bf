"""A slow ``/say`` never holds the queue: the request deadline fails it, and flush/stop abandon it.

Against the real sandbox with its latency fault (a wall-clock delay before every REST request).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.session.conftest import wait_for
from tui.sandbox import EmbeddedSandbox
from tui.session.account import Account
from tui.session.call_session import CallSession
from tui.session.dial import DialRequest
from tui.session.record import SessionRecorder, read_record
from tui.voipbin.rest import VoipbinClient

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def slow_session(sandbox: EmbeddedSandbox, tmp_path: Path) -> AsyncIterator[CallSession]:
    client = VoipbinClient(sandbox.api_url, accesskey=sandbox.accesskey, request_deadline=1.0)
    account = Account(client, ping_interval=2.0, ping_timeout=4.0)
    await account.start()
    s = CallSession(account, recorder=SessionRecorder(tmp_path / "say.jsonl"))
    await s.dial(DialRequest())
    await wait_for(lambda: s.speech.phase == "active", what="speaking stream")
    yield s
    async with httpx.AsyncClient(base_url=sandbox.control_url) as control:
        await control.post("/faults", json={"reset": True})
    await s.close(hangup=True)
    await account.close()


async def latency(sandbox: EmbeddedSandbox, ms: float) -> None:
    async with httpx.AsyncClient(base_url=sandbox.control_url) as control:
        (await control.post("/faults", json={"latency_ms": ms})).raise_for_status()


async def test_a_say_past_the_deadline_fails_and_the_next_line_goes_out(
    slow_session: CallSession, sandbox: EmbeddedSandbox
) -> None:
    s = slow_session
    await latency(sandbox, 2500)
    started = time.monotonic()
    (slow,) = s.say("This line meets a server that takes far too long.")
    await wait_for(lambda: slow.state == "failed", timeout=5, what="the slow line failed")
    assert time.monotonic() - started < 2.0
    assert slow.error is not None
    assert "request deadline" in slow.error
    await latency(sandbox, 0)
    (after,) = s.say("And this one goes out at once.")
    await wait_for(lambda: after.state in ("sent", "heard"), timeout=5, what="the next line sent")


async def test_flush_abandons_a_say_in_flight_and_the_queue_moves_on(
    slow_session: CallSession, sandbox: EmbeddedSandbox
) -> None:
    s = slow_session
    await latency(sandbox, 900)  # under the 1 s deadline: only the flush can free the queue in time
    (stuck,) = s.say("A line whose request is still out when the flush comes.")
    (queued,) = s.say("A line waiting behind it.")
    await wait_for(lambda: stuck.state == "sending", timeout=5, what="the request written")
    await latency(sandbox, 0)
    started = time.monotonic()
    await s.flush()
    assert time.monotonic() - started < 0.5
    assert stuck.state == "flushed"
    assert stuck.error is not None
    assert "still out" in stuck.error
    assert queued.state == "flushed"
    (fresh,) = s.say("A new line after the flush.")
    await wait_for(lambda: fresh.state in ("sent", "heard"), timeout=3, what="the new line sent")
    path = s.recorder.path
    assert path is not None
    states = {(e.get("id"), e.get("state")) for e in read_record(path) if e["type"] == "say"}
    assert (stuck.id, "flushed") in states


async def test_stop_abandons_a_say_in_flight_and_a_new_stream_takes_lines_at_once(
    slow_session: CallSession, sandbox: EmbeddedSandbox
) -> None:
    s = slow_session
    await latency(sandbox, 900)
    (stuck,) = s.say("A line whose request is still out when the stream is stopped.")
    await wait_for(lambda: stuck.state == "sending", timeout=5, what="the request written")
    await latency(sandbox, 0)
    await s.stop_speaking()
    assert stuck.state == "flushed"
    assert stuck.error is not None
    assert "stopped while its request was still out" in stuck.error
    assert s.speech.phase == "stopped"
    started = time.monotonic()
    await s.open_speaking()
    (fresh,) = s.say("A line on the new stream.")
    await wait_for(lambda: fresh.state in ("sent", "heard"), timeout=3, what="the new line sent")
    assert time.monotonic() - started < 2.0
