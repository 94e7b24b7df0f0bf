"""Find, copy out, transcript times, the say box's byte count and the event log's filter and views (Pilot)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import write_config
from tests.ui.fakes import CALL_ID, fake_app
from tui.ui.app import VoipbinApp
from tui.ui.screens.entry import EntryScreen
from tui.ui.screens.help import HelpScreen
from tui.ui.widgets.event_log import EventLog, LogFilter
from tui.ui.widgets.say_input import byte_count


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(
        tmp_path / "config.toml",
        {
            "session": {"record_dir": str(tmp_path / "records"), "export_dir": str(tmp_path / "exports")},
            "log": {"file": str(tmp_path / "console.log")},
        },
    )


async def until(pilot: Pilot[Any], predicate: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the expected state never arrived"
        await asyncio.sleep(0.01)
        await pilot.pause()
    await pilot.pause()


async def live(pilot: Pilot[Any], app: VoipbinApp) -> None:
    await until(pilot, lambda: app.session is not None and app.session.phase == "live" and app.exported == [])
    await until(pilot, lambda: len(app.call_screen.transcript) >= 7)


async def type_line(pilot: Pilot[Any], text: str) -> None:
    app = pilot.app
    assert isinstance(app, VoipbinApp)
    app.call_screen.say_box.focus()
    app.call_screen.say_box.value = text
    await pilot.press("enter")
    await pilot.pause()


async def test_find_box_highlights_and_steps_through_matches(config: Path) -> None:
    app = fake_app(config)
    async with app.run_test(size=(100, 30)) as pilot:
        await live(pilot, app)
        view = app.call_screen.transcript
        await pilot.press("ctrl+f")
        assert app.call_screen.find_shown
        assert app.focused is app.call_screen.find_bar
        await pilot.press(*"speak")
        await pilot.pause()
        # From the newest line back: the greeting's "test the Speaking API" comes before "You can speak now".
        assert view.cursor_line is not None
        assert "Speaking API" in view.cursor_line.text
        assert view.query_text == "speak"
        await pilot.press("enter")  # older
        assert view.cursor_line is not None
        assert view.cursor_line.text.startswith("You can speak now")
        await pilot.press("down")  # newer again
        assert view.cursor_line is not None
        assert "Speaking API" in view.cursor_line.text
        # The match is drawn in the match style somewhere on screen.
        match_style = view.get_component_rich_style("transcript--match")
        drawn = [view.render_line(y) for y in range(view.size.height)]
        assert any(seg.style is not None and seg.style.bgcolor == match_style.bgcolor for s in drawn for seg in s)
        await pilot.press("escape")
        assert not app.call_screen.has_class("-find")
        assert app.focused is not None
        assert app.focused.id == "say"


async def test_slash_find_next_prev_and_no_match(config: Path) -> None:
    app = fake_app(config)
    async with app.run_test(size=(100, 30)) as pilot:
        await live(pilot, app)
        view = app.call_screen.transcript
        await type_line(pilot, "/find hello")
        first = view.cursor_line
        assert first is not None
        assert "hello" in first.text.lower()
        await type_line(pilot, "/prev")
        assert view.cursor_line is not None
        assert view.cursor_line is not first
        await type_line(pilot, "/next")
        assert view.cursor_line is first
        # In the focused transcript n / p step too.
        view.focus()
        await pilot.press("p")
        assert view.cursor_line is not first
        await pilot.press("n")
        assert view.cursor_line is first
        await type_line(pilot, "/find zebra crossing")
        assert app.notices[-1] == ("info", "no line contains 'zebra crossing'")


async def test_copy_id_line_and_transcript_reach_the_clipboard(config: Path) -> None:
    app = fake_app(config)
    async with app.run_test(size=(100, 30)) as pilot:
        await live(pilot, app)
        await pilot.press("ctrl+y")
        assert app.clipboard == CALL_ID, "the full id, not the 8-character one"
        await pilot.press("ctrl+o")
        text = app.clipboard
        assert "Hi, this is a test of the transcription feature." in text
        assert "SAY Hello, how are you today?" in text
        assert "I can hear you" not in text, "interim text is not a transcript line yet"
        assert len(text.splitlines()) >= 7
        # No selection: ctrl+l copies the newest line; with the cursor on a line, that one.
        await pilot.press("ctrl+l")
        assert app.clipboard.endswith("out Hello, how are you today?")
        view = app.call_screen.transcript
        view.focus()
        await pilot.press("home")
        await pilot.press("shift+down")
        await pilot.press("c")
        lines = app.clipboard.splitlines()
        assert len(lines) == 2
        assert lines[0].endswith("out Hello.")
        await pilot.press("ctrl+l")
        assert app.clipboard.splitlines() == lines
        # The palette has them too.
        titles = {e.title for e in app.palette_entries()}
        assert {"Copy call id", "Copy line", "Copy transcript", "Find", "Transcript times"} <= titles


async def test_copied_remote_text_carries_no_control_characters(config: Path) -> None:
    app = fake_app(config)
    async with app.run_test(size=(100, 30)) as pilot:
        await live(pilot, app)
        session = app.session
        assert session is not None
        from datetime import UTC, datetime

        changes = session.book.add_transcript(
            transcript_id="evil",
            transcribe_id="x",
            direction="in",
            text="hi \x1b]52;c;ZXZpbA==\x07 there \u202e\x9b",
            at=datetime(2026, 2, 21, 10, 6, tzinfo=UTC),
        )
        app.call_screen.transcript.apply(changes)
        await pilot.pause()
        await pilot.press("ctrl+l")
        copied = app.clipboard
        assert "hi " in copied
        assert "there" in copied
        assert not any((ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F for c in copied)
        assert "\u202e" not in copied
        assert "\\x1b" in copied


async def test_mouse_selection_is_copied_safely(config: Path) -> None:
    app = fake_app(config)
    async with app.run_test(size=(100, 30)) as pilot:
        await live(pilot, app)
        view = app.call_screen.transcript
        from textual.geometry import Offset
        from textual.selection import Selection

        rows = view.plain_rows()
        last = len(rows) - 1
        selection = Selection(Offset(0, last - 1), Offset(len(rows[last]), last))
        found = view.get_selection(selection)
        assert found is not None
        assert found[0].splitlines() == [rows[last - 1], rows[last]]
        # Rows carry their offsets, which is what Textual's mouse selection reads.
        strip = view.render_line(0)
        assert any(seg.style is not None and seg.style.meta.get("offset") is not None for seg in strip)


async def test_transcript_times_cycle_through_wall_ms_and_call_relative(config: Path) -> None:
    app = fake_app(config)
    async with app.run_test(size=(100, 30)) as pilot:
        await live(pilot, app)
        view = app.call_screen.transcript
        assert view.plain_rows()[0].startswith("10:05:06 out")
        await type_line(pilot, "/time")
        await until(pilot, lambda: view.plain_rows()[0].startswith("10:05:06.200 out"))
        view.focus()
        await pilot.press("t")
        # The fake call was created at 10:05:00.100; the first line is 6.1 s later.
        await until(pilot, lambda: view.plain_rows()[0].startswith("T+0:06.100 out"))
        assert app.notices[-1] == ("info", "transcript times: since the call began")
        await pilot.press("t")
        await until(pilot, lambda: view.plain_rows()[0].startswith("10:05:06 out"))


def test_byte_count() -> None:
    assert byte_count("") == ""
    assert byte_count("/flush") == ""
    assert byte_count("héllo") == "6/5000 B"
    assert byte_count("//x") == "2/5000 B"
    long = "Word. " * 1000
    assert byte_count(long).startswith("5999/5000 B · sent as 2 lines")


async def test_say_box_shows_the_byte_count_as_you_type(config: Path) -> None:
    app = fake_app(config)
    async with app.run_test(size=(100, 30)) as pilot:
        await live(pilot, app)
        box = app.call_screen.say_box
        box.focus()
        await pilot.press(*"héllo")
        assert str(box.border_subtitle) == "6/5000 B"
        await pilot.press("enter")
        await pilot.pause()
        assert str(box.border_subtitle) == ""


def test_log_filter_words_kinds_and_noise() -> None:
    f = LogFilter.parse("kind:request -speakings")
    assert f.accepts("request", "POST /v1.0/calls → 200")
    assert not f.accepts("request", "GET /v1.0/speakings/x → 200")
    assert not f.accepts("frame", "call_updated")
    quiet = LogFilter(hide_noise=True)
    assert not quiet.accepts("frame", "transcribe_speech_interim in [bare] {}")
    assert not quiet.accepts("request", "GET /v1.0/speakings/abc → 200 3 ms")
    assert quiet.accepts("request", "POST /v1.0/speakings/abc/say → 200 3 ms")
    assert quiet.accepts("frame", "transcript_created in")


async def test_event_log_filter_open_wrap_and_full_screen(config: Path) -> None:
    app = fake_app(config)
    async with app.run_test(size=(100, 30)) as pilot:
        await live(pilot, app)
        screen = app.call_screen
        log: EventLog = screen.events
        await until(pilot, lambda: len(log.entries) >= 5)
        total = len(log.entries)
        await type_line(pilot, "/filter kind:request")
        assert screen.log_shown
        kinds = {k for k, _ in log.shown_entries}
        assert kinds == {"request"}
        assert len(log.shown_entries) < total
        log.write("frame", "transcribe_speech_interim in [bare] {}", 0.0)
        log.write("request", "POST /v1.0/calls → 201", 0.0)
        assert len(log.shown_entries) == 4
        # Pick an entry with the keyboard and open it: the whole request, as plain text.
        log.focus()
        await pilot.press("home")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, EntryScreen))
        entry_screen = app.screen
        assert isinstance(entry_screen, EntryScreen)
        assert "request_id: req_01" in entry_screen.text
        assert "accesskey=***" in entry_screen.text
        await pilot.press("c")
        assert app.clipboard == entry_screen.text
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, EntryScreen))
        await type_line(pilot, "/filter")
        assert len(log.shown_entries) == len(log.entries)
        # A frame opens as laid-out JSON.
        frame = next(e for e in log._entries if e.kind == "frame" and e.detail)
        assert '\n  "status": ' in log.detail_text(frame)
        log.focus()
        await pilot.press("w")
        assert log.wrap
        await pilot.press("f")
        await pilot.pause()
        assert screen.log_full
        assert screen.transcript.region.width == 0
        assert log.region.width == 100
        await pilot.press("f")
        await pilot.pause()
        assert not screen.has_class("-log-full")
        assert screen.transcript.region.width > 0
        await pilot.press("h")
        assert log.filter.hide_noise


async def test_help_lists_the_new_keys(config: Path) -> None:
    app = fake_app(config)
    async with app.run_test(size=(100, 40)) as pilot:
        await live(pilot, app)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        text = str(screen.query_one("#help-text").render())
        for fragment in ("[find]", "[copy_id]", "[copy_transcript]", "[toggle_time]", "[log_open]", "/filter"):
            assert fragment in text, fragment
