"""/attach: a refused attach keeps the ended call on screen, a unique prefix is enough, /attach alone lists."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.ui.conftest import AppFactory, live_call, rows, type_line, wait_until
from tui.ui.app import VoipbinApp
from tui.ui.screens.help import HelpScreen
from tui.ui.screens.pick_call import PickCallScreen

UNKNOWN = "6f1c2d3e-0000-4000-8000-000000000000"


async def _ended_call(pilot: Pilot[None], app: VoipbinApp) -> None:
    await wait_until(pilot, lambda: app.call_screen.summary.lines != [], "the rejected call to end", timeout=15)


async def test_a_refused_attach_keeps_the_ended_call_on_screen(make_app: AppFactory) -> None:
    app = make_app(dial=True, sandbox={"answer_mode": "reject"})
    async with app.run_test(size=(100, 30)) as pilot:
        await _ended_call(pilot, app)
        first = app.session
        summary = app.call_screen.summary.plain
        before = rows(app)
        await type_line(pilot, f"/attach {UNKNOWN}")
        await wait_until(pilot, lambda: UNKNOWN in app.call_screen.notice.plain, "the attach error")
        assert app.session is first, "the ended call stays the current one"
        assert app.call_screen.summary.plain == summary, "the summary stays"
        assert rows(app) == before, "the transcript stays"
        await type_line(pilot, "/attach 0123")
        await wait_until(pilot, lambda: "0123" in app.call_screen.notice.plain, "the prefix error")
        notice = app.call_screen.notice.plain
        assert "no call or groupcall id starts with 0123" in notice
        assert "full call id" in notice
        assert "longer prefix" in notice
        assert app.call_screen.summary.plain == summary


async def test_attach_by_a_unique_prefix(make_app: AppFactory) -> None:
    app = make_app(dial=True, sandbox={"answer_mode": "reject"})
    async with app.run_test(size=(100, 30)) as pilot:
        await _ended_call(pilot, app)
        first = app.session
        assert first is not None
        assert first.call is not None
        call_id = first.call.id
        await type_line(pilot, "/attach " + call_id[:8])
        await wait_until(pilot, lambda: app.session is not first, "the attached session")
        session = app.session
        assert session is not None
        await wait_until(pilot, lambda: session.call is not None and session.call.id == call_id, "the same call")


async def test_attach_alone_offers_a_pick_list(make_app: AppFactory) -> None:
    app = make_app(dial=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await live_call(pilot, app)
        first = app.session
        assert first is not None
        assert first.call is not None
        call_id = first.call.id
        await type_line(pilot, "/attach")
        assert app.call_screen.say_box.value == "/attach", "refused while live: the command stays in the box"
        assert "a call is live" in app.call_screen.notice.plain
        await type_line(pilot, f"/attach {call_id}")
        assert app.call_screen.say_box.value == f"/attach {call_id}"
        await pilot.press("f8")
        await wait_until(pilot, lambda: first.phase == "ended", "the hangup")
        await type_line(pilot, "/attach")
        await wait_until(pilot, lambda: isinstance(app.screen, PickCallScreen), "the pick list")
        screen = app.screen
        assert isinstance(screen, PickCallScreen)
        assert [c.id for c in screen.choices].count(call_id) == 1
        await pilot.press("down", "up", "enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, PickCallScreen), "the pick")
        await wait_until(pilot, lambda: app.session is not first, "the attached session")
        session = app.session
        assert session is not None
        await wait_until(
            pilot, lambda: session.call is not None and session.call.id == screen.choices[0].id, "attached"
        )


async def test_full_ids_in_the_side_panel_and_the_help(make_app: AppFactory) -> None:
    app = make_app(dial=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await live_call(pilot, app)
        session = app.session
        assert session is not None
        assert session.call is not None
        call_id = session.call.id
        assert call_id in app.call_screen.legs.plain
        speaking = session.speech.speaking
        assert speaking is not None
        assert speaking.id in app.call_screen.legs.plain
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        text = str(app.screen.query_one("#help-text").render())
        assert f"{call_id} (live)" in text


async def test_the_exit_line_names_the_record_the_full_id_and_the_state(make_app: AppFactory) -> None:
    app = make_app(dial=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await live_call(pilot, app)
        session = app.session
        assert session is not None
        assert session.call is not None
        call_id = session.call.id
        await pilot.press("ctrl+q")
        await pilot.press("h")
        await wait_until(pilot, lambda: not app.is_running, "the app to exit")
    assert app.exit_line == f"record {session.recorder.path} · call {call_id} · ended"
