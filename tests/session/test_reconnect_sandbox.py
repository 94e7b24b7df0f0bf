"""Events that never get lost: socket drops, frame shapes and reordering, for the session and for `watch`."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.session.conftest import CALLER_LINES, Recorder, server_transcripts, settings, wait_for
from tui.sandbox import EmbeddedSandbox
from tui.session.account import Account
from tui.session.call_session import CallSession
from tui.session.dial import DialRequest
from tui.session.updates import GapRecovered, TranscriptUpdated
from tui.session.watch import AccountWatcher
from tui.voipbin.rest import VoipbinClient

pytestmark = pytest.mark.timeout(90)


async def run_call_with_drops(
    sandbox: EmbeddedSandbox, drops: int, *, frame_shape: str | None = None, reorder: bool = False
) -> tuple[CallSession, Recorder, list[dict[str, Any]], Account]:
    """One call with five caller lines and a said line while every WebSocket is dropped ``drops`` times."""
    async with httpx.AsyncClient(base_url=sandbox.control_url) as control:
        faults: dict[str, Any] = {}
        if frame_shape:
            faults["frame_shape"] = frame_shape
        if reorder:
            faults["reorder"] = True
        if faults:
            (await control.post("/faults", json=faults)).raise_for_status()
        fast: dict[str, Any] = {"ping_interval": 1.0, "ping_timeout": 2.0, "backoff_initial": 0.2}
        account = Account(VoipbinClient(sandbox.api_url, accesskey=sandbox.accesskey), **fast)
        watch_account = Account(VoipbinClient(sandbox.api_url, accesskey=sandbox.accesskey), **fast)
        await account.start()
        await watch_account.start()
        lines: list[dict[str, Any]] = []
        watcher = AccountWatcher(watch_account, lines.append)
        watcher.attach()
        rec = Recorder()
        s = CallSession(account)
        s.subscribe(rec)
        await s.dial(DialRequest())
        await wait_for(lambda: s.speech.phase == "active", what="speaking stream")
        s.say("Hello from the console while the channel keeps dropping.")

        def up(acc: Account) -> bool:
            return acc.connection is not None and acc.connection.state in ("connected", "reconnected")

        for n in range(drops):
            await asyncio.sleep(0.35)
            # Both sockets must be up, or a drop would miss the one still reconnecting from the last.
            await wait_for(lambda: up(account) and up(watch_account), timeout=20, what="both sockets up")
            (await control.post("/faults", json={"drop_websockets": True})).raise_for_status()

            def recovered(n: int = n) -> bool:
                return len(rec.of(GapRecovered)) > n

            await wait_for(recovered, timeout=20, what=f"gap {n + 1} recovered")
        await wait_for(
            lambda: sum(1 for ln in s.book if ln.kind == "transcript" and ln.direction == "in") >= len(CALLER_LINES),
            timeout=30,
            what="all caller lines",
        )
        await s.hangup()
        await wait_for(
            lambda: s.phase == "ended" and all(t.status == "done" for t in s.transcribes.values()),
            timeout=20,
            what="hangup and transcribe done",
        )
        # The watcher's own socket may be mid-reconnect at hangup; its backfill must still deliver the end.
        await wait_for(
            lambda: any(ln["kind"] == "call" and ln.get("status") == "hangup" for ln in lines),
            timeout=20,
            what="watch sees the hangup",
        )
        # A transcript made just before the hangup can reach the watcher after the hangup itself (delivery
        # is unordered, and its socket may still be backfilling): give it the time to arrive. A transcript
        # that never arrives still fails, here or in the exact comparison after.
        (tid,) = s.transcribes
        server = set(await server_transcripts(account, tid))
        await wait_for(
            lambda: (
                {ln["id"] for ln in lines if ln["kind"] == "transcript" and ln.get("transcribe_id") == tid} >= server
            ),
            timeout=10,
            what="watch's transcripts",
        )
        await s.close()
        await watcher.close()
        await watch_account.close()
        return s, rec, lines, account


def inserted_transcript_ids(rec: Recorder) -> list[str]:
    return [
        c.line.transcript_id
        for u in rec.of(TranscriptUpdated)
        for c in u.changes
        if c.op == "insert" and c.line.kind == "transcript" and c.line.transcript_id
    ]


async def assert_nothing_lost_or_doubled(
    s: CallSession, rec: Recorder, lines: list[dict[str, Any]], account: Account
) -> None:
    (tid,) = s.transcribes
    server = await server_transcripts(account, tid)
    assert len(server) >= len(CALLER_LINES) + 3
    shown = {ln.transcript_id: ln.text for ln in s.book if ln.kind == "transcript"}
    assert shown == server
    inserted = inserted_transcript_ids(rec)
    assert sorted(inserted) == sorted(server), "each transcript inserted exactly once"
    watched = [ln["id"] for ln in lines if ln["kind"] == "transcript" and ln.get("transcribe_id") == tid]
    assert sorted(watched) == sorted(server), "watch printed each transcript exactly once"


@pytest.mark.parametrize("aggregated", [True, False], ids=["aggregated-events", "per-resource"])
async def test_three_drops_lose_nothing_and_double_nothing(aggregated: bool) -> None:
    sandbox = EmbeddedSandbox(settings(caller_script=CALLER_LINES, caller_delay=1.5, aggregated_events=aggregated))
    await sandbox.start()
    s, rec, lines, account = await run_call_with_drops(sandbox, drops=3)
    try:
        # The recovery read what it could from GET /aggregated-events, or from each resource without it.
        expected = "aggregated-events" if aggregated else "per-resource"
        assert {ln["via"] for ln in lines if ln["kind"] == "gap"} == {expected}
        assert s.recoverer.aggregated is aggregated
        gaps = rec.of(GapRecovered)
        assert len(gaps) >= 3
        assert [ln for ln in s.book if ln.kind == "gap"], "the gap is marked in the transcript"
        # Transcripts spoken while the socket was down came back through the REST backfill.
        assert sum(g.recovered.get("transcripts", 0) for g in gaps) >= 1
        await assert_nothing_lost_or_doubled(s, rec, lines, account)
        states = [ln["state"] for ln in lines if ln["kind"] == "connection"]
        assert states.count("reconnected") >= 3
        assert "reconnecting" in states
        assert [ln for ln in lines if ln["kind"] == "gap"]
    finally:
        await account.close()
        await sandbox.stop()


@pytest.mark.parametrize(("shape", "reorder"), [("wrapped", False), ("documented", False), ("bare", True)])
async def test_every_frame_shape_and_reordering(shape: str, reorder: bool) -> None:
    async with EmbeddedSandbox(settings(caller_script=CALLER_LINES, caller_delay=1.5)) as sandbox:
        s, rec, lines, account = await run_call_with_drops(sandbox, drops=3, frame_shape=shape, reorder=reorder)
        try:
            await assert_nothing_lost_or_doubled(s, rec, lines, account)
            statuses = [ln["status"] for ln in lines if ln["kind"] == "call"]
            assert "progressing" in statuses
            assert "hangup" in statuses
            assert s.call is not None
            assert s.call.status == "hangup"
        finally:
            await account.close()


async def test_watch_backfills_a_call_created_while_its_socket_was_down(sandbox: EmbeddedSandbox) -> None:
    slow: dict[str, Any] = {"ping_interval": 1.0, "ping_timeout": 2.0, "backoff_initial": 2.0, "jitter": 0.0}
    watch_account = Account(VoipbinClient(sandbox.api_url, accesskey=sandbox.accesskey), **slow)
    await watch_account.start()
    lines: list[dict[str, Any]] = []
    watcher = AccountWatcher(watch_account, lines.append)
    watcher.attach()
    caller = Account(VoipbinClient(sandbox.api_url, accesskey=sandbox.accesskey))
    await caller.start()
    s = CallSession(caller)
    try:
        async with httpx.AsyncClient(base_url=sandbox.control_url) as control:
            (await control.post("/faults", json={"drop_websockets": True})).raise_for_status()
        await wait_for(lambda: any(ln.get("state") == "reconnecting" for ln in lines), what="watch socket down")
        await s.dial(DialRequest())  # the whole start of this call happens while the watcher is blind
        (tid,) = await wait_for(lambda: list(s.transcribes), what="transcribe")
        await wait_for(lambda: sum(1 for ln in s.book if ln.kind == "transcript") >= 2, what="greeting lines")
        assert not any(ln.get("kind") == "call" for ln in lines)
        await wait_for(lambda: any(ln["kind"] == "gap" for ln in lines), timeout=20, what="gap backfilled")
        call_id = s.call.id if s.call else ""
        assert any(ln["kind"] == "call" and ln["id"] == call_id and ln.get("backfilled") for ln in lines)
        gap = next(ln for ln in lines if ln["kind"] == "gap")
        assert gap["recovered"]["calls"] >= 1
        assert gap["recovered"]["transcripts"] >= 2
        await s.hangup()
        await wait_for(lambda: s.phase == "ended" and all(t.status == "done" for t in s.transcribes.values()))
        await wait_for(lambda: any(ln.get("event") == "transcribe_done" for ln in lines), what="live again")
        server = await server_transcripts(caller, tid)
        watched = [ln["id"] for ln in lines if ln["kind"] == "transcript" and ln.get("transcribe_id") == tid]
        assert sorted(watched) == sorted(server)
    finally:
        await s.close()
        await caller.close()
        await watcher.close()
        await watch_account.close()
