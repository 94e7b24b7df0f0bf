"""The main job, driven by keyboard through Pilot against the real embedded sandbox."""

from __future__ import annotations

import json

import httpx

from tests.ui.conftest import AppFactory, dial_form, finals, live_call, rows, transcript_text, type_line, wait_until
from tui.ui.screens.dial import DialScreen


async def test_seed_scenario_by_keyboard(make_app: AppFactory) -> None:
    """--dial → greeting → say (heard, with latency) → flush → stop → failed say → /speak → /resend →
    /caller → /hangup → summary → /export."""
    app = make_app(dial=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.call_screen
        assert "SANDBOX" in screen.header.plain
        await live_call(pilot, app)
        assert "progressing" in screen.status.plain
        assert "speaking active" in screen.status.plain
        await wait_until(pilot, lambda: "connected" in screen.header.plain, "the event channel state")

        # A typed line becomes a SAY line, is sent, then heard (matched to the `out` transcript it causes).
        await type_line(pilot, "Hello, how are you today?", keys=True)
        assert screen.say_box.value == "", "the say box is cleared once the line is queued"
        session = app.session
        assert session is not None
        item = session.ledger.items[-1]
        assert item.text == "Hello, how are you today?"
        await wait_until(pilot, lambda: item.state == "heard", "the line to be heard")
        assert item.latency_ms is not None
        await wait_until(pilot, lambda: "[heard " in transcript_text(app), "the heard state and latency on screen")
        await wait_until(pilot, lambda: "Hello, how are you today?" in finals(app, "out"), "the out transcript")

        # A long line is still being spoken when flushed: it is marked flushed and can be resent.
        long_line = "This sentence keeps the text to speech engine busy for quite a while. " * 12
        await type_line(pilot, long_line.strip())
        long_item = session.ledger.items[-1]
        await wait_until(pilot, lambda: long_item.state in ("sent", "heard"), "the long line to be sent")
        await pilot.press("f2")
        await wait_until(pilot, lambda: long_item.state == "flushed", "flush (F2) to mark the line flushed")
        await wait_until(pilot, lambda: "[flushed]" in transcript_text(app), "the flushed state on screen")
        assert session.speech.phase == "active", "flush keeps the stream open"

        # Stop: the stream is gone; a line typed now fails, keeps its text, and says how to recover.
        await type_line(pilot, "/stop")
        await wait_until(pilot, lambda: session.speech.phase == "stopped", "/stop")
        await type_line(pilot, "This line cannot be spoken yet.")
        failed = session.ledger.items[-1]
        await wait_until(pilot, lambda: failed.state == "failed", "the say to fail")
        await wait_until(pilot, lambda: "[failed]" in transcript_text(app), "the failed SAY line")
        text = transcript_text(app)
        assert "hint: /speak opens a new stream" in text
        assert screen.notice.level == "error"
        assert "say failed" in screen.notice.plain
        assert screen.say_box.history[-1] == "This line cannot be spoken yet.", "↑ brings the text back"

        # Reopen, then resend the failed line.
        await pilot.press("f4")
        await wait_until(pilot, lambda: session.speech.phase == "active", "the stream to reopen (F4)")
        await type_line(pilot, "/resend")
        resent = session.ledger.items[-1]
        assert resent is not failed
        assert resent.text == failed.text
        await wait_until(pilot, lambda: resent.state == "heard", "the resent line to be heard")

        # The person on the phone speaks (sandbox): an `in` transcript.
        await type_line(pilot, "/caller I can hear you clearly now.")
        await wait_until(pilot, lambda: "I can hear you clearly now." in finals(app, "in"), "the caller line")

        # Hang up from the say box: the summary starts with "Call ended"; the transcript stays.
        lines_before = len(screen.transcript)
        await type_line(pilot, "/hangup")
        await wait_until(pilot, lambda: screen.summary.lines != [], "the call summary")
        summary = screen.summary.plain
        assert summary.startswith("Call ended after ")
        assert "hung up here, normal" in summary
        assert "say→heard p50" in summary
        assert "record " in summary
        assert len(screen.transcript) >= lines_before - 2, "the transcript is kept (only interim text goes)"
        assert "hangup" in screen.status.plain
        assert session.recorder.path is not None
        assert session.recorder.path.parent == make_app.record_dir
        assert str(session.recorder.path) in summary

        # Saying after the end keeps the text and says why.
        await type_line(pilot, "too late")
        assert screen.say_box.value == "too late"
        assert "the call has ended" in screen.notice.plain
        screen.say_box.value = ""

        await type_line(pilot, "/export")
        await wait_until(pilot, lambda: len(app.exported) == 3, "the export")
        suffixes = sorted(p.suffix for p in app.exported)
        assert suffixes == [".jsonl", ".md", ".srt"]
        assert all(p.parent == make_app.export_dir for p in app.exported)
        md = next(p for p in app.exported if p.suffix == ".md").read_text()
        assert "Hello, how are you today?" in md
        assert "I can hear you clearly now." in md
        jsonl = [json.loads(x) for x in next(p for p in app.exported if p.suffix == ".jsonl").read_text().splitlines()]
        assert any(r["text"] == "I can hear you clearly now." and r["direction"] == "in" for r in jsonl)
        srt = next(p for p in app.exported if p.suffix == ".srt").read_text()
        assert "-->" in srt
        assert "[caller] I can hear you clearly now." in srt
        assert "exported" in screen.summary.plain


async def test_dial_form_defaults_pickers_and_enter(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        form = await dial_form(pilot, app)
        values = form.values()
        assert values.source == "+15551234567"
        assert values.destination == "quickstart-phone"
        assert values.language == "en-US"
        assert values.greeting.startswith("Hello. This is the VoIPBIN real-time voice interaction test.")
        assert values.sleep_ms == 3_600_000, "defaults come from [dial] in the config"
        assert (values.provider, values.direction) == ("elevenlabs", "out")
        from textual.widgets import Select

        picker = form.query_one("#pick-destination", Select)
        await wait_until(pilot, lambda: len(picker._options) > 1, "the extensions picker to fill")
        labels = [str(label) for label, _ in picker._options]
        assert "Extension 2000 (2000)" in labels
        picker.value = "2000"
        await pilot.pause()
        assert form.values().destination == "2000", "picking an extension dials its `extension` field"
        picker.value = "quickstart-phone"
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, DialScreen), "the form to close after dialling")
        await live_call(pilot, app)
        assert app.call_screen.say_box.has_focus, "typing goes to the say box"


async def test_failed_dial_keeps_the_form_and_hints(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        form = await dial_form(pilot, app)
        from textual.widgets import Input, Label

        destination = form.query_one("#dial-destination", Input)
        destination.value = "Extension 2000"  # the name, not the extension: VoIPBIN answers 500
        await pilot.click("#dial-go")
        await wait_until(pilot, lambda: form.problem is not None, "the dial to fail")
        assert app.screen is form, "the form stays open"
        assert destination.value == "Extension 2000", "and keeps what was typed"
        problem = form.problem
        assert problem is not None
        assert "dial failed" in problem.text
        assert "'2000'" in problem.hint
        assert problem.request_id
        shown = str(form.query_one("#dial-problem", Label).content)
        assert "hint:" in shown
        assert shown.count(problem.request_id) == 1, f"the request id is shown once: {shown}"
        # Shown once: inline in the form, not also as the banner behind it and a toast.
        assert app.call_screen.notice.text == ""
        assert not app._notifications, "no toast repeats the form's problem"
        destination.value = "2000"
        destination.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, DialScreen), "the corrected dial")
        await wait_until(
            pilot,
            lambda: (
                app.session is not None and app.session.call is not None and app.session.call.status == "progressing"
            ),
            "the call to extension 2000",
        )


async def test_manual_answer_from_the_phone_side(make_app: AppFactory) -> None:
    app = make_app(dial=True, sandbox={"answer_mode": "manual"})
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(
            pilot,
            lambda: app.session is not None and app.session.call is not None and app.session.call.status == "ringing",
            "ringing",
        )
        assert "ringing" in app.call_screen.status.plain
        await pilot.press("f9")
        await live_call(pilot, app)
        await pilot.press("f11")
        await wait_until(pilot, lambda: app.call_screen.summary.lines != [], "the phone to hang up")
        assert "hung up by the other side, normal" in app.call_screen.summary.plain


async def test_rejected_call(make_app: AppFactory) -> None:
    app = make_app(dial=True, sandbox={"answer_mode": "reject"})
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.call_screen.summary.lines != [], "the rejected call to end", timeout=15)
        summary = app.call_screen.summary.plain
        assert summary.startswith("Call ended")
        assert "busy" in summary
        assert "hangup" in app.call_screen.status.plain
        assert app.session is not None
        assert app.session.speech.phase in ("none", "closed"), "no stream is opened on an unanswered call"
        await type_line(pilot, "hello?")
        assert app.call_screen.say_box.value == "hello?"


async def test_attach_to_an_existing_call(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await dial_form(pilot, app)
        await pilot.press("escape")
        account = app.runtime.account
        assert account is not None
        request = app.runtime.default_dial()
        body = request.body()
        result = await account.client.create_call(body["source"], body["destinations"], body["actions"])
        call_id = result.call_ids[0]
        sandbox = app.runtime.sandbox
        assert sandbox is not None
        async with httpx.AsyncClient() as http:
            for _ in range(100):
                r = await http.get(f"{app.runtime.api_url}/calls/{call_id}", params={"accesskey": sandbox.accesskey})
                if r.status_code == 200 and r.json()["status"] == "progressing":
                    break
                await pilot.pause(0.05)
        await type_line(pilot, f"/attach {call_id}")
        await live_call(pilot, app)
        session = app.session
        assert session is not None
        assert session.call is not None
        assert session.call.id == call_id
        await type_line(pilot, "Attached and speaking.")
        await wait_until(pilot, lambda: "Attached and speaking." in finals(app, "out"), "a line said after attach")


async def test_quit_asks_while_live_and_hangs_up(make_app: AppFactory) -> None:
    app = make_app(dial=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await live_call(pilot, app)
        session = app.session
        assert session is not None
        from tui.ui.screens.confirm import ConfirmScreen

        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the quit question")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "cancel")
        assert app.is_running
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the quit question again")
        await pilot.press("h")
        await wait_until(pilot, lambda: not app.is_running, "the app to exit")
    assert app.return_code == 0
    call = session.call
    assert call is not None
    assert call.status == "hangup", "hang up & quit hung the call up"


async def test_unknown_command_and_help(make_app: AppFactory) -> None:
    app = make_app(dial=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await live_call(pilot, app)
        await type_line(pilot, "/frobnicate now")
        screen = app.call_screen
        assert screen.say_box.value == "/frobnicate now", "the text stays for correction"
        assert "unknown command /frobnicate" in screen.notice.plain
        screen.say_box.value = ""
        # //text says a literal slash line.
        await type_line(pilot, "//slash is fine")
        session = app.session
        assert session is not None
        assert session.ledger.items[-1].text == "/slash is fine"
        await type_line(pilot, "/help")
        from tui.ui.screens.help import HelpScreen

        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")
        text = str(app.screen.query_one("#help-text").render())
        for needle in ("F2", "[flush]", "/caller TEXT", "/phonehangup", "//text", "^q", "[hangup]"):
            assert needle in text, needle
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen), "help to close")
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "F1 help")
        await pilot.press("f1")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen), "F1 closes help")


async def test_history_walks_with_up_and_down(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await dial_form(pilot, app)
        await pilot.press("escape")
        await pilot.pause()
        await type_line(pilot, "first")
        await type_line(pilot, "second")
        box = app.call_screen.say_box
        assert box.value == "second", "without a call the text stays"
        box.value = "draft"
        await pilot.press("up")
        assert box.value == "second"
        await pilot.press("up")
        assert box.value == "first"
        await pilot.press("down", "down")
        assert box.value == "draft"
        assert rows(app) == []


async def test_attach_flag_with_an_unknown_id_explains(make_app: AppFactory) -> None:
    app = make_app(attach="6f1c2d3e-0000-4000-8000-000000000000")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.call_screen.notice.level == "error", "the attach error")
        assert "6f1c2d3e-0000-4000-8000-000000000000" in app.call_screen.notice.plain
        assert app.session is not None
        assert app.session.phase == "failed"
        assert app.is_running, "a failed attach does not end the console"


async def test_new_call_after_the_end_starts_clean(make_app: AppFactory) -> None:
    app = make_app(dial=True, sandbox={"answer_mode": "reject"})
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.call_screen.summary.lines != [], "the rejected call to end", timeout=15)
        first = app.session
        await pilot.press("f5")
        form = await dial_form(pilot, app)
        assert form.values().destination == "quickstart-phone", "the form remembers the last call"
        form.query_one("#dial-destination").focus()
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: app.session is not first and app.session is not None and app.session.call is not None,
            "the second call",
        )
        second = app.session
        assert second is not None
        assert app.call_screen.status.session is second
        await wait_until(pilot, lambda: second.phase == "ended", "the second call to end", timeout=15)
        await wait_until(pilot, lambda: app.call_screen.summary.lines != [], "the second summary")
        assert first is not None
        assert str(second.recorder.path) in app.call_screen.summary.plain, "the summary is the new call's"
        assert str(first.recorder.path) not in app.call_screen.summary.plain
