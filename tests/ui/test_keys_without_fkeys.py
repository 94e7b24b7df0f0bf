"""Every action without F-keys: ? opens help outside text boxes, the help says how, the palette has them all."""

from __future__ import annotations

from tests.ui.conftest import AppFactory, dial_form, wait_until
from tui.actions.registry import ACTIONS
from tui.ui.screens.help import HelpScreen


async def test_question_mark_opens_help_outside_the_say_box_and_types_inside(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await dial_form(pilot, app)
        await pilot.press("escape")
        await pilot.pause()
        box = app.call_screen.say_box
        box.focus()
        await pilot.pause()
        await pilot.press("question_mark")
        assert box.value == "?", "in the say box ? is a character"
        assert not isinstance(app.screen, HelpScreen)
        app.call_screen.transcript.focus()
        await pilot.pause()
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "? opening the help")
        text = str(app.screen.query_one("#help-text").render())
        assert "No F-keys?" in text
        assert "GNOME" in text
        assert "slash command" in text
        assert "palette" in text
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen), "? closing the help")


def test_every_keyed_action_is_reachable_without_its_key() -> None:
    """A slash command or (console-only actions) the palette: nothing needs an F-key."""
    from tui.actions.keys import effective_keys
    from tui.actions.registry import ActionState
    from tui.ui.commands import palette_entries

    titles = {e.title for e in palette_entries(ActionState(has_phone=True, has_sandbox=True), effective_keys({}))}
    for decl in ACTIONS:
        if not decl.keys.startswith("f"):
            continue
        assert decl.slash or decl.title in titles, decl.id
