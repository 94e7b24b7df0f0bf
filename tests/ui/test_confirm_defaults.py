"""The quit question's default is the safe choice: Enter on it never hangs up a live call."""

from __future__ import annotations

from textual.widgets import Button

from tests.ui.conftest import AppFactory, live_call, wait_until
from tui.ui.screens.confirm import ConfirmScreen


async def test_enter_on_the_quit_question_cancels(make_app: AppFactory) -> None:
    app = make_app(dial=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await live_call(pilot, app)
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the quit question")
        focused = app.focused
        assert isinstance(focused, Button)
        assert focused.id == "choice-cancel"
        buttons = [b.id for b in app.screen.query(Button)]
        assert buttons == ["choice-cancel", "choice-leave", "choice-hangup"], "safest first, most drastic last"
        labels = [str(b.label) for b in app.screen.query(Button)]
        assert labels == ["Cancel [escape]", "Leave running & quit [l]", "Hang up & quit [h]"], "the key hints show"
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "the question to close")
        assert app.is_running
        session = app.session
        assert session is not None
        assert session.is_live, "Enter on the default must not hang up"
