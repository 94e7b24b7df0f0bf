"""Outages, refusals and odd frames: the console keeps going, shows why, and loses nothing."""

from __future__ import annotations

from collections import Counter

import httpx

from tests.ui.conftest import AppFactory, finals, live_call, server_control, transcript_text, type_line, wait_until
from tui.voipbin.frames import classify_frame


async def server_transcripts(app_api: str, accesskey: str, transcribe_id: str) -> list[tuple[str, str]]:
    async with httpx.AsyncClient() as http:
        r = await http.get(
            f"{app_api}/transcripts", params={"transcribe_id": transcribe_id, "accesskey": accesskey, "page_size": 100}
        )
        r.raise_for_status()
        return [(t["direction"], t["message"]) for t in r.json()["result"]]


async def test_reconnect_with_gap_loses_nothing_and_doubles_nothing(make_app: AppFactory) -> None:
    app = make_app(dial=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await live_call(pilot, app)
        session = app.session
        assert session is not None
        sandbox = app.runtime.sandbox
        assert sandbox is not None
        await wait_until(pilot, lambda: finals(app, "in"), "the scripted caller line")
        await wait_until(
            pilot,
            lambda: not any(ln.kind == "interim" for ln in app.call_screen.transcript.lines),
            "the caller to finish speaking",
        )

        async with httpx.AsyncClient() as http:
            r = await http.post(f"{server_control(app)}/faults", json={"drop_websockets": True})
            assert r.json()["dropped_websockets"] >= 1
        # Speech during the outage: its transcripts are only reachable over REST afterwards.
        await type_line(pilot, "/caller Nobody hears this live.")
        await type_line(pilot, "Spoken while the channel is down.")
        header = app.call_screen.header
        await wait_until(pilot, lambda: "reconnecting" in header.plain, "the header to say reconnecting")

        await wait_until(
            pilot,
            lambda: any(ln.kind == "gap" for ln in app.call_screen.transcript.lines),
            "the gap marker",
            timeout=15,
        )
        await wait_until(pilot, lambda: "recovered" in header.plain, "the header to say the gap was recovered")
        text = transcript_text(app)
        assert "connection lost for" in text
        await wait_until(pilot, lambda: "Nobody hears this live." in finals(app, "in"), "the backfilled caller line")
        await wait_until(
            pilot, lambda: "Spoken while the channel is down." in finals(app, "out"), "the backfilled out line"
        )
        backfilled = [ln for ln in app.call_screen.transcript.lines if ln.kind == "transcript" and ln.backfilled]
        assert backfilled, "what came back over REST is marked"
        assert "↺" in text

        (transcribe_id,) = session.transcribes
        server = await server_transcripts(app.runtime.api_url, sandbox.accesskey, transcribe_id)
        shown = [(ln.direction, ln.text) for ln in app.call_screen.transcript.lines if ln.kind == "transcript"]
        assert Counter(shown) == Counter(server), "the screen shows exactly the server's transcripts, once each"


async def test_say_refused_by_the_server_keeps_the_line_for_resend(make_app: AppFactory) -> None:
    app = make_app(dial=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await live_call(pilot, app)
        session = app.session
        assert session is not None
        async with httpx.AsyncClient() as http:
            await http.post(f"{server_control(app)}/faults", json={"http_error_rate": 1.0})
            await type_line(pilot, "This one hits a server error.")
            item = session.ledger.items[-1]
            await wait_until(pilot, lambda: item.state == "failed", "the say to fail")
            await http.post(f"{server_control(app)}/faults", json={"reset": True})
        assert item.request_id, "the failure carries the request id"
        notice = app.call_screen.notice
        assert notice.level == "error"
        assert item.request_id in notice.plain
        assert "hint:" in notice.plain
        text = transcript_text(app)
        assert "[failed]" in text
        assert f"request {item.request_id}" in text
        await type_line(pilot, "/resend")
        again = session.ledger.items[-1]
        assert again.text == item.text
        await wait_until(pilot, lambda: again.state == "heard", "the resent line")


async def test_documented_frame_shape_and_the_event_log(make_app: AppFactory) -> None:
    app = make_app(dial=True, sandbox={"frame_shape": "documented"}, ui={"show_event_log": True})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.call_screen
        await live_call(pilot, app)
        assert screen.log_shown, "[ui] show_event_log shows it from the start"
        log = screen.events
        await wait_until(
            pilot, lambda: any(k == "frame" and "[documented]" in t for k, t in log.entries), "frames in the event log"
        )
        kinds = {k for k, _ in log.entries}
        assert {"frame", "request", "connection"} <= kinds
        assert any("POST /v1.0/calls → 200" in t for k, t in log.entries if k == "request")

        sandbox = app.runtime.sandbox
        assert sandbox is not None
        junk = classify_frame('{"surprise": true, "accesskey": "' + sandbox.accesskey + '"}')
        app.feeds.on_frame(junk)  # the same path the account uses
        await pilot.pause()
        (shown,) = [t for k, t in log.entries if k == "unrecognised"]
        assert "surprise" in shown
        assert sandbox.accesskey not in shown
        assert all(sandbox.accesskey not in t for _, t in log.entries), "no secret reaches the screen"

        await pilot.press("f6")
        await wait_until(pilot, lambda: not screen.events.display, "F6 to hide the log")
        await type_line(pilot, "/log")
        await wait_until(pilot, lambda: screen.events.display, "/log to show it again")


async def test_keymap_remaps_by_binding_id(make_app: AppFactory) -> None:
    app = make_app(dial=True, keymap={"hangup": "ctrl+t", "nonsense": "f3"})
    async with app.run_test(size=(80, 24)) as pilot:
        await live_call(pilot, app)
        assert any("nonsense" in text for _, text in app.notices), "unknown ids are reported"
        assert app.keys["hangup"] == "ctrl+t"
        await pilot.press("f8")
        await pilot.pause(0.2)
        assert app.session is not None
        assert app.session.is_live, "the old key no longer hangs up"
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: app.call_screen.summary.lines != [], "the remapped key to hang up")
        assert "^t or /dial" not in app.call_screen.summary.plain


async def test_layout_at_80x24_shows_every_area(make_app: AppFactory) -> None:
    app = make_app(dial=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await live_call(pilot, app)
        screen = app.call_screen
        await type_line(pilot, "Checking the layout.")
        await pilot.pause()
        regions = {
            name: widget.region
            for name, widget in (
                ("header", screen.header),
                ("status", screen.status),
                ("transcript", screen.transcript),
                ("say", screen.say_box),
                ("footer", screen.query_one("#footer")),
            )
        }
        for name, region in regions.items():
            assert region.height > 0, f"{name} is visible"
            assert region.width == 80 or name == "transcript", f"{name} spans the width"
            assert region.bottom <= 24, f"{name} fits"
        assert regions["header"].y == 0
        assert regions["footer"].bottom == 24
        assert regions["transcript"].height >= 12, "the transcript gets most of the space"
        assert regions["status"].height == 2
        assert not screen.query_one("#side").display, "no side column at 80 columns"
        # The greeting's sentences are wrapped, not cut.
        await wait_until(
            pilot,
            lambda: "The call will stay open for you to test the Speaking API." in transcript_text(app),
            "the end of the greeting",
        )
        svg = app.export_screenshot()
        assert "SANDBOX" in svg


async def test_wide_terminal_shows_the_legs_and_phone(make_app: AppFactory) -> None:
    app = make_app(dial=True, sandbox={"answer_mode": "manual"})
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.call_screen
        await wait_until(
            pilot,
            lambda: app.session is not None and app.session.call is not None and app.session.call.status == "ringing",
            "ringing",
        )
        assert screen.query_one("#side").display
        assert screen.phone.display
        await wait_until(pilot, lambda: "ringing" in screen.legs.plain, "the leg in the side panel")
        await pilot.click("#phone-answer")
        await live_call(pilot, app)
        assert "progressing" in screen.legs.plain
        assert "record session-" in screen.legs.plain


async def test_no_color_keeps_states_readable(make_app: AppFactory, monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(dial=True)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color
        await live_call(pilot, app)
        plain = app.call_screen.status.plain
        assert "progressing" in plain
        assert "speaking active" in plain
        assert "events ● connected" in app.call_screen.header.plain


async def test_command_palette_lists_the_actions(make_app: AppFactory) -> None:
    app = make_app(dial=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await live_call(pilot, app)
        titles = {e.title for e in app.palette_entries()}
        assert {
            "Hang up",
            "Flush",
            "Stop",
            "Speak",
            "New call",
            "Export",
            "Events",
            "Help",
            "Quit",
            "Answer",
            "Caller line",
            "Resend",
        } <= titles
        from textual.command import CommandPalette

        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"hang")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.call_screen.summary.lines != [], "Hang up from the palette")
