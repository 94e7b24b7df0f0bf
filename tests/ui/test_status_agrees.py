"""Status that agrees with itself (issue 10, defect 8): each case was seen on screen before its fix."""

from __future__ import annotations

import json

from tests.ui.conftest import AppFactory, dial_form, live_call, type_line, wait_until
from tui.session.dial import DialRequest
from tui.session.updates import Notice
from tui.ui.screens.call import CALL_PLACEHOLDERS


async def test_a_declined_call_never_answered_and_never_had_a_stream(make_app: AppFactory) -> None:
    app = make_app(dial=True, sandbox={"answer_mode": "manual"})
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(
            pilot,
            lambda: app.session is not None and app.session.call is not None and app.session.call.status == "ringing",
            "the ringing call",
        )
        await pilot.pause()
        assert "No call yet" not in app.call_screen.transcript.placeholder, "the phone is ringing"
        await pilot.press("f10")
        await wait_until(pilot, lambda: app.call_screen.summary.lines != [], "the declined call to end", timeout=15)
        summary = app.call_screen.summary.plain
        assert summary.startswith("Call ended before it was answered (declined by the other side, busy)")
        assert "after 0:00" not in summary
        status = app.call_screen.status.plain
        assert "speaking none" in status
        assert "speaking closed" not in status
        assert app.call_screen.transcript.placeholder == CALL_PLACEHOLDERS["ended"]
        session = app.session
        assert session is not None
    path = session.recorder.path
    assert path is not None
    kinds = [json.loads(line)["type"] for line in path.read_text(encoding="utf-8").splitlines()]
    assert kinds.count("summary") == 1


async def test_one_duration_one_heard_count_one_summary_record(make_app: AppFactory) -> None:
    app = make_app(dial=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await live_call(pilot, app)
        for i in range(3):
            await type_line(pilot, f"Line number {i}.")
        session = app.session
        assert session is not None
        await wait_until(pilot, lambda: session.ledger.tally().heard == 3, "three lines heard")
        # A line heard and then flushed was heard: the status line counted it out, the summary in.
        session.ledger.items[0].state = "flushed"
        await pilot.press("f3")
        await wait_until(pilot, lambda: session.speech.phase == "stopped", "the stream to stop")
        status = app.call_screen.status.plain
        assert "stopped  stopped" not in status
        assert "3 heard" in status
        await pilot.press("f8")
        await wait_until(pilot, lambda: app.call_screen.summary.lines != [], "the summary", timeout=15)
        await pilot.pause(1.0)
        summary = app.call_screen.summary.plain
        assert "3 heard" in summary
        assert session.summary is not None
        timer = [w for w in app.call_screen.status.plain.split() if w.count(":") == 1 and w[0].isdigit()]
        assert timer, app.call_screen.status.plain
        assert f"Call ended after {timer[0]} " in summary, (timer, summary)
    path = session.recorder.path
    assert path is not None
    kinds = [json.loads(line)["type"] for line in path.read_text(encoding="utf-8").splitlines()]
    assert kinds.count("summary") == 1, "the summary is recorded once, the final one"


async def test_sip_target_gap_note_and_the_failed_status(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await dial_form(pilot, app)
        await pilot.press("escape")
        app.call_screen.header.set_gap("gap 2.0s recovered")
        session = app.calls.new_session()
        session.dial_request = DialRequest(destination="sip:alice@example.test")
        await pilot.pause()
        assert app.call_screen.header.gap_note == "", "a new call starts without the last call's gap"
        status = app.call_screen.status.plain
        assert "sip:sip:" not in status
        assert "sip:alice@example.test" in status
        session.dial_request = None
        session.starter._fail(session.failure or _notice(), "refused")
        await pilot.pause()
        status = app.call_screen.status.plain
        assert "see the error below" in status
        assert app.call_screen.notice.region.y > app.call_screen.status.region.y, "the notice is below the status"


def _notice() -> Notice:
    return Notice("error", "cannot dial: test")
