"""What the action registry and the slim app promise on screen: focus moves, hints, the error sink."""

from __future__ import annotations

from textual.widgets import Input

from tests.ui.conftest import AppFactory, dial_form, live_call, type_line, wait_until
from tui.ui.screens.confirm import ConfirmScreen


async def test_tab_moves_through_the_dial_form_and_a_dialog(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        form = await dial_form(pilot, app)
        seen: list[str] = []
        for _ in range(12):
            focused = app.focused
            seen.append(focused.id or "" if focused is not None else "")
            await pilot.press("tab")
        assert {"dial-source", "dial-destination", "dial-language", "dial-greeting", "dial-sleep"} <= set(seen)
        assert "dial-go" in seen, "the buttons are reachable by keyboard"
        await pilot.press("shift+tab")
        assert app.focused is not None
        assert form.is_attached
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, type(form)), "the form to close")


async def test_tab_moves_between_the_buttons_of_a_confirm_dialog(make_app: AppFactory) -> None:
    app = make_app(dial=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await live_call(pilot, app)
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the quit question")
        first = app.focused
        await pilot.press("tab")
        second = app.focused
        assert second is not None
        assert second is not first, "Tab moves the focus inside the dialog"
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "the dialog to close")


async def test_hints_follow_a_remapped_keymap(make_app: AppFactory) -> None:
    app = make_app(keymap={"new_call": "ctrl+n", "help": "ctrl+g"})
    async with app.run_test(size=(100, 30)) as pilot:
        await dial_form(pilot, app)
        await pilot.press("escape")
        screen = app.call_screen
        assert "^n or /dial opens the dial form" in screen.transcript.placeholder
        assert "^g help" in screen.transcript.placeholder
        assert "F5" not in screen.transcript.placeholder
        await wait_until(pilot, lambda: "^n or /dial" in screen.status.plain, "the idle hint")
        await type_line(pilot, "a line with no call")
        await wait_until(pilot, lambda: "^n or /dial" in screen.notice.plain, "the say box's hint")


async def test_a_failing_worker_reaches_the_error_sink(make_app: AppFactory) -> None:
    app = make_app(dial=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await live_call(pilot, app)
        session = app.session
        assert session is not None

        async def broken_flush() -> None:
            raise RuntimeError("the speaking API fell over")

        session.flush = broken_flush  # type: ignore[method-assign]
        await pilot.press("f2")
        await wait_until(pilot, lambda: "flush failed" in app.call_screen.notice.plain, "the notice")
        assert "the speaking API fell over" in app.call_screen.notice.plain
        assert app.call_screen.notice.level == "error"
        assert app.is_running, "a failed worker does not end the console"
        assert isinstance(app.call_screen.say_box, Input)


def test_the_private_textual_api_we_lean_on_still_exists() -> None:
    """The checklist in docs/DEVELOPING.md ("Moving the Textual pin"), as code: each must still be there."""
    import inspect

    from textual.app import App
    from textual.scroll_view import ScrollView
    from textual.widget import Widget
    from textual.widgets import Input

    assert list(inspect.signature(App._handle_exception).parameters) == ["self", "error"]
    assert list(inspect.signature(ScrollView._scroll_update).parameters) == ["self", "virtual_size"]
    assert list(inspect.signature(App._start_widget).parameters) == ["self", "parent", "widget"]
    assert list(inspect.signature(Input._watch_value).parameters) == ["self", "value"]
    scrollbar = inspect.getattr_static(Widget, "vertical_scrollbar")
    assert isinstance(scrollbar, property)
    assert scrollbar.fget is not None
    assert "_vertical_scrollbar" in inspect.getsource(scrollbar.fget)


async def test_fault_command_reaches_the_sandbox_and_says_what_is_in_force(make_app: AppFactory) -> None:
    app = make_app(dial=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await live_call(pilot, app)
        await type_line(pilot, "/fault latency_ms=5")
        await wait_until(pilot, lambda: any("latency_ms=5" in t for _, t in app.notices), "the faults in force")
        await type_line(pilot, "/fault no_such_fault")
        await wait_until(pilot, lambda: "refused the fault" in app.call_screen.notice.plain, "the refusal")
        assert "unknown fault" in app.call_screen.notice.plain
        await type_line(pilot, "/fault")
        await wait_until(pilot, lambda: any(t == "sandbox faults: none" for _, t in app.notices), "the reset")
