"""A CallSession's record under a frame flood from a hostile event channel: summarised, not copied."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.hostile import raw
from tests.hostile.raw import RawServer
from tui.session.account import Account
from tui.session.call_session import CallSession
from tui.session.record import SessionRecorder, read_record
from tui.voipbin.rest import VoipbinClient

pytestmark = pytest.mark.timeout(60)


async def test_a_frame_flood_is_summarised_in_the_record(tmp_path: Path) -> None:
    async with RawServer(raw.ws_flood(2.0)) as server:
        account = Account(VoipbinClient(server.api_url, accesskey="vb_FLOODtestKEY0123456789"))
        session = CallSession(account, recorder=SessionRecorder(tmp_path / "flood.jsonl"))
        try:
            await account.start()
            await asyncio.sleep(2.5)
        finally:
            path = session.recorder.path
            # The account first: it hands each frame to the session as it counts it, so once its stream
            # is closed the count and what the session saw cannot drift apart (a slow flood's tail could
            # otherwise be counted after the session had stopped recording).
            await account.close()
            await session.close()
    assert path is not None
    frames = account.unrecognised_seen
    assert frames > 1000  # a real flood reached the session
    size = path.stat().st_size
    # One by one this is about 3.2 KB a frame (several MB); summarised it is a few hundred KB at most.
    assert size < 600_000, (frames, size)
    entries = list(read_record(path))
    written = sum(1 for e in entries if e["type"] == "frame")
    counted = sum(e["count"] for e in entries if e["type"] == "frames_suppressed")
    assert written + counted == frames
    assert entries[-1]["type"] == "end"
