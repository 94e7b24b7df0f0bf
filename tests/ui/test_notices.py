"""One problem, said once and not forever: Esc clears the banner, a fixed problem takes its banner away,
warnings are not repeated as toasts, and toasts stay clear of the say box."""

from __future__ import annotations

from tests.ui.conftest import AppFactory, dial_form, type_line, wait_until


async def test_esc_clears_the_banner_and_a_warning_is_not_also_a_toast(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await dial_form(pilot, app)
        await pilot.press("escape")
        await pilot.pause()
        await type_line(pilot, "/frobnicate")
        notice = app.call_screen.notice
        assert "unknown command /frobnicate" in notice.plain
        assert not app._notifications, "the banner says it; a toast would say it twice"
        await pilot.press("escape")
        await pilot.pause()
        assert notice.text == ""
        assert not notice.has_class("-shown")
        assert app.call_screen.say_box.value == "/frobnicate", "Esc does not eat the typed text"


async def test_a_channel_error_goes_when_the_channel_is_back(make_app: AppFactory) -> None:
    from tui.voipbin.events import ConnectionState

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await dial_form(pilot, app)
        await pilot.press("escape")
        app.feeds.on_connection(ConnectionState(state="closed", error="token expired", fatal=True))
        await pilot.pause()
        assert "event channel closed" in app.call_screen.notice.plain
        app.feeds.on_connection(ConnectionState(state="connected"))
        await pilot.pause()
        assert app.call_screen.notice.text == "", "the channel is back: its error is stale"


async def test_toasts_sit_at_the_top_clear_of_the_say_box(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await dial_form(pilot, app)
        await pilot.press("escape")
        app.show_notice("info", "an information toast")
        await wait_until(pilot, lambda: bool(app.screen.query("Toast")), "the toast")
        await pilot.pause(0.2)
        toast = app.screen.query_one("Toast")
        say = app.call_screen.say_box
        assert toast.region.bottom <= say.region.y, (toast.region, say.region)
        assert toast.region.y <= 4, "under the header and the status, at the top"
