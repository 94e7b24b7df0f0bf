"""A call hung up while its extension is still ringing, seen by the session and by `watch`."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.session.conftest import wait_for
from tui.sandbox import EmbeddedSandbox
from tui.session.account import Account
from tui.session.call_session import CallSession
from tui.session.dial import DialRequest
from tui.session.watch import AccountWatcher
from tui.voipbin.rest import VoipbinClient


@pytest.mark.sandbox(leg_create_delay=20.0, answer_mode="manual")  # the leg would appear after 1 s
async def test_watch_sees_the_groupcall_hung_up_and_no_leg_left(sandbox: EmbeddedSandbox, account: Account) -> None:
    watch_account = Account(VoipbinClient(sandbox.api_url, accesskey=sandbox.accesskey))
    await watch_account.start()
    lines: list[dict[str, Any]] = []
    watcher = AccountWatcher(watch_account, lines.append)
    watcher.attach()
    s = CallSession(account)
    try:
        await s.dial(DialRequest())
        assert s.groupcall is not None
        groupcall_id = s.groupcall.id
        leg_id = s.groupcall.call_ids[0]
        await s.hangup()
        await wait_for(lambda: s.phase == "ended", what="the session ends")
        await wait_for(
            lambda: any(ln["kind"] == "groupcall" and ln.get("status") == "hangup" for ln in lines),
            what="watch prints the groupcall hangup",
        )
        events = [(ln["event"], ln.get("status")) for ln in lines if ln.get("id") == groupcall_id]
        assert events[0] == ("groupcall_created", "progressing")
        assert events[-1] == ("groupcall_hangup", "hangup")
        await s.close()
        # Past the moment the leg would have been created: it never is, and watch never shows it.
        await asyncio.sleep(1.2)
        assert not [ln for ln in lines if ln.get("id") == leg_id]
        assert sandbox.stats()["live_calls"] == 0
    finally:
        await s.close()
        await watcher.close()
        await watch_account.close()
