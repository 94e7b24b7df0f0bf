"""Every setter that takes remote text, fed the whole corpus at once, then every widget of every screen
walked: nothing raw, nothing clickable, nothing parsed, nothing crashed."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.content import Content

from tests.hostile.conftest import click_actions, console, screen_text, screens_segments
from tests.hostile.corpus import ALL_HOSTILE, CORPUS, RAW_MARKERS
from tests.ui.conftest import wait_until
from tui.ui import safe
from tui.ui.screens.dial import DialProblem, DialScreen
from tui.ui.screens.help import HelpScreen
from tui.ui.widgets.event_log import EntryKind

KINDS: list[EntryKind] = ["frame", "duplicate", "unrecognised", "request", "request-error", "connection", "note"]


def test_markup_values_cannot_open_or_close_tags() -> None:
    content = safe.markup("[b]$who[/b] said $what", who="[/b][@click=app.quit]x", what="[/x] \x1b[2J")
    assert content.plain == "[/b][@click=app.quit]x said [/x] \\x1b[2J"
    assert [(s.start, s.end, str(s.style)) for s in content.spans] == [(0, len("[/b][@click=app.quit]x"), "b")]


def test_plain_and_assemble_never_parse() -> None:
    for text in CORPUS.values():
        assert safe.plain(text).plain == safe.clean(text)
        assert not safe.plain(text).spans
    content = safe.assemble(("[b]x[/b]", "bold"), "\n", CORPUS["click_quit"], Content.from_markup("[i]ours[/i]"))
    assert content.plain == "[b]x[/b]\n[@click=app.quit]x[/]ours"
    assert safe.multiline("a\nb\x1b").plain == "a\nb\\x1b"


async def test_every_surface_with_the_whole_corpus(tmp_path: Path) -> None:
    app = console(tmp_path)
    async with app.run_test(size=(150, 45), notifications=True) as pilot:
        await wait_until(pilot, lambda: app.started, "start-up", timeout=30)
        await wait_until(pilot, lambda: isinstance(app.screen, DialScreen), "the dial form", timeout=30)
        form = app.screen
        assert isinstance(form, DialScreen)
        form.show_problem(DialProblem(ALL_HOSTILE, hint=ALL_HOSTILE, request_id=ALL_HOSTILE, reason=ALL_HOSTILE))
        screen = app.call_screen
        screen.header.set_mode("service", ALL_HOSTILE)
        screen.header.set_customer(ALL_HOSTILE)
        screen.header.set_channel("closed", 1, ALL_HOSTILE)
        screen.status.set_idle_text(ALL_HOSTILE)
        screen.show_log(True)
        for kind in KINDS:
            screen.events.write(kind, ALL_HOSTILE, 0.0)
        app.show_notice("error", ALL_HOSTILE, hint=ALL_HOSTILE, request_id=ALL_HOSTILE, reason=ALL_HOSTILE)
        app.show_notice("info", ALL_HOSTILE)
        screen.summary.show_exported([ALL_HOSTILE])
        screen.summary.lines = [ALL_HOSTILE, ALL_HOSTILE]
        screen.summary.add_class("-shown")
        await pilot.pause(0.2)
        app.push_screen(HelpScreen(app.keys, app.actions.state(), notes={"log file": ALL_HOSTILE}))
        await pilot.pause(0.2)
        text = screen_text(app)
        assert [m for m in RAW_MARKERS if m in text] == []
        assert [a for a in click_actions(app) if "quit" in a or "screenshot" in a or "hangup" in a] == []
        assert not any("link" in (seg.style.meta if seg.style else {}) for seg in screens_segments(app))
        squeezed = "".join(text.split())
        assert "[@click=app.quit]x[/]" in squeezed
        assert "[link=javascript:alert(1)]open[/link]" in squeezed
        assert "hint:check[session]export_dir" in squeezed, "bracketed words are kept"
        assert app.return_code is None
        assert app.is_running


def test_one_line_folds_escapes_and_counts_what_it_left_out() -> None:
    text = "a\n  b\x1b" + "c" * 10_000
    shown = safe.one_line(text, 20)
    head, _, tail = shown.partition("… (")
    assert head.startswith("a b\\x1b")
    assert len(head) <= 20
    more = int(tail.removesuffix(" more chars)"))
    assert len(text) - 25 <= more <= len(text)
    assert safe.one_line("short\ttext") == "short text"


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "text",
    ["eyJ" * 300_000, "a@" + "M" * 1_000_000 + "@", "[@click=x] " + "M" * 1_000_000, "vb_" * 300_000],
    ids=["jwt-heads", "userinfo", "params", "accesskeys"],
)
def test_redaction_of_hostile_text_is_linear(text: str) -> None:
    # Quadratic backtracking made these take minutes; linear patterns finish in milliseconds.
    from tui.voipbin.redact import redact_text

    assert len(redact_text(text, ["a-secret-value"])) > 0
