"""The console hangs up a ringing extension call through its groupcall, and warns when transcription
goes quiet (the 5-minute stream limit of the default provider, modelled by the sandbox)."""

from __future__ import annotations

import pytest

from tests.ui.conftest import AppFactory, type_line, wait_until
from tui.ui.screens.confirm import ConfirmScreen

pytestmark = pytest.mark.timeout(60)

# 50 simulated seconds at speed 25: the leg record would appear 2 s after POST /calls.
SLOW_LEG = {"leg_create_delay": 50.0, "answer_mode": "manual"}


async def test_hangup_while_ringing_before_the_leg_exists(make_app: AppFactory) -> None:
    app = make_app(dial=True, sandbox=SLOW_LEG)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.session is not None and app.session.groupcall is not None, "the groupcall")
        session = app.session
        assert session is not None
        assert not session.legs, "no leg record yet"
        await pilot.press("f8")
        await wait_until(pilot, lambda: session.phase == "ended", "the call to end")
        assert session.groupcall is not None
        assert session.groupcall.status == "hangup"
        sandbox = app.runtime.sandbox
        assert sandbox is not None
        assert sandbox.stats()["live_calls"] == 0
        assert sandbox.core is not None
        (groupcall,) = sandbox.core.store.groupcalls.values()
        assert groupcall.status == "hangup"
        assert all(cid not in sandbox.core.store.calls for cid in groupcall.call_ids), "the leg never exists"


async def test_quit_with_hangup_before_the_leg_exists_leaves_nothing_ringing(make_app: AppFactory) -> None:
    app = make_app(dial=True, sandbox=SLOW_LEG)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.session is not None and app.session.groupcall is not None, "the groupcall")
        sandbox = app.runtime.sandbox
        assert sandbox is not None
        assert sandbox.core is not None
        core = sandbox.core
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the quit question")
        await pilot.press("h")
        await wait_until(pilot, lambda: not app.is_running, "the app to exit")
    (groupcall,) = core.store.groupcalls.values()
    assert groupcall.status == "hangup", "the clean-up hung the groupcall up"


async def test_quiet_transcription_after_the_stream_limit_is_flagged(make_app: AppFactory) -> None:
    # The stream stops 20 simulated seconds (0.8 s) after it starts, after the greeting was transcribed.
    app = make_app(
        dial=True,
        sandbox={"transcribe_stream_limit": 20.0, "caller_script": []},
        dial_settings={"transcribe_quiet_warning": 1.0},
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(
            pilot,
            lambda: app.session is not None and app.session.speech.phase == "active",
            "the speaking stream",
        )
        session = app.session
        assert session is not None
        await wait_until(pilot, lambda: any(ln.kind == "transcript" for ln in session.book), "the greeting")
        await pilot.pause(1.0)  # past the limit
        await type_line(pilot, "Is anyone still transcribing this line?")
        await wait_until(
            pilot,
            lambda: any("transcription has gone quiet" in text for _, text in app.notices),
            "the quiet-transcription warning",
            timeout=15,
        )
        assert "transcription has gone quiet" in app.call_screen.notice.plain
        assert "5-minute" in app.call_screen.notice.plain
        assert any(ln.kind == "note" and "gone quiet" in ln.text for ln in session.book)
        (transcribe,) = session.transcribes.values()
        assert transcribe.status == "progressing"
