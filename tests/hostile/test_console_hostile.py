"""The console against hostile text on every surface: nothing is interpreted, nothing crashes, the literal
text is visible with its control characters escaped.

Surfaces: header (customer name), dial form pickers (extension and number names), transcript, event log
(raw frames, connection changes), status and legs panels (hangup reason, addresses), summary, notices and
toasts (error messages and reasons), the dial form's problem line, confirm dialogs, the say box's
commands, the exports and the log file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, Select
from textual.widgets._toast import Toast

from tests.hostile.conftest import click_actions, console, hostile_service, raw_markers, screen_text
from tests.hostile.corpus import CORPUS, OSC0_TITLE, OSC52_CLIPBOARD
from tests.hostile.proxy import HostilePlan
from tests.ui.conftest import dial_form, live_call, type_line, wait_until
from tui.ui.app import VoipbinApp
from tui.ui.screens.confirm import Choice, ConfirmScreen
from tui.ui.screens.dial import DialScreen
from tui.voipbin.safetext import safe_line

pytestmark = pytest.mark.slow

CALLER_SCRIPT = [CORPUS[k] for k in ("osc52", "clear", "c1_csi", "click_quit", "bidi", "close_tag")]
CUSTOMER = f"ACME {OSC0_TITLE} [/x]"
EXTENSIONS = [
    {"name": "bad [/x] ext", "extension": "quickstart-phone"},
    {"name": "[@click=app.quit]x[/] \x1b[2J", "extension": "2000"},
]


def flat(text: str) -> str:
    return " ".join(text.split())


def squeeze(text: str) -> str:
    """Without whitespace: widgets wrap long text, so a phrase is matched across the wrap."""
    return "".join(text.split())


def assert_clean(app: VoipbinApp, tmp_path: Path) -> str:
    """Nothing raw on screen, no remote action bait became a clickable action, the log file is clean."""
    text = screen_text(app)
    assert raw_markers([text]) == []
    baits = [a for a in click_actions(app) if re.search(r"quit|screenshot|hangup|javascript", a)]
    assert baits == []
    log = (tmp_path / "console.log").read_text(encoding="utf-8")
    assert raw_markers(log.splitlines()) == []
    assert app.return_code is None
    assert app.is_running
    return squeeze(text)


async def test_hostile_names_and_transcripts_from_the_sandbox_are_shown_literally(tmp_path: Path) -> None:
    app = console(
        tmp_path,
        sandbox={
            "customer_name": CUSTOMER,
            "extensions": EXTENSIONS,
            "caller_script": CALLER_SCRIPT,
            "caller_delay": 0.3,
        },
    )
    async with app.run_test(size=(150, 45), notifications=True) as pilot:
        form = await dial_form(pilot, app)
        picker = form.query_one("#pick-destination", Select)
        await wait_until(pilot, lambda: len(picker._options) > 2, "the extension picker to fill")
        labels = [str(getattr(p, "plain", p)) for p, _ in picker._options[1:]]
        assert "bad [/x] ext (quickstart-phone)" in labels
        assert safe_line("[@click=app.quit]x[/] \x1b[2J") + " (2000)" in labels
        # Open the picker: its overlay draws every option.
        picker.expanded = True
        await pilot.pause(0.1)
        text = assert_clean(app, tmp_path)
        assert squeeze("bad [/x] ext") in text
        # The overlay wraps long labels, so the pieces are checked one by one.
        assert squeeze("[@click=app.quit]x[/]") in text
        assert squeeze("\\x1b[2J (2000)") in text
        picker.expanded = False
        await pilot.pause()
        form.query_one("#dial-destination").focus()
        await pilot.press("enter")

        await live_call(pilot, app)
        app.call_screen.show_log(True)
        await wait_until(
            pilot,
            lambda: app.session is not None and app.session.book.final_count["in"] >= len(CALLER_SCRIPT),
            "every hostile caller line",
            timeout=20,
        )
        await pilot.pause(0.2)
        text = assert_clean(app, tmp_path)
        shown = flat(" ".join(app.call_screen.transcript.plain_rows()))
        for line in CALLER_SCRIPT:
            assert flat(safe_line(line)) in shown
        assert "\\x1b]52;c;" in shown
        assert "[@click=app.quit]x[/]" in shown
        assert "\\u202e" in shown
        assert safe_line(CUSTOMER) in app.call_screen.header.plain
        assert app.session is not None
        assert app.session.is_live, "no remote text hung up the call"


HOSTILE_ERROR = f"{CORPUS['click_screenshot']} {CORPUS['close_tag']} {OSC52_CLIPBOARD}"


@pytest.mark.parametrize("status", [400, 500])
async def test_a_hostile_error_message_is_a_plain_notice_and_runs_nothing(tmp_path: Path, status: int) -> None:
    plan = HostilePlan(
        names=CORPUS["click_hangup"], fail={("POST", "/calls"): (status, "[/x]\x1b]0;r\x07", HOSTILE_ERROR)}
    )
    async with hostile_service(plan) as hostile:
        app = hostile.app(tmp_path, dial=True)
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, DialScreen), "the dial form with the problem")
            form = app.screen
            assert isinstance(form, DialScreen)
            await wait_until(pilot, lambda: form.problem is not None, "the problem shown in the form")
            await pilot.pause(0.1)
            text = assert_clean(app, tmp_path)
            assert app.screen.query(Toast), "the notice is on screen as a toast too"
            assert squeeze("[@click=app.screenshot('x','DIR')]Click here to retry[/]") in text
            assert "[/x]\\x1b]0;r\\x07" in text  # the reason
            assert safe_line(CORPUS["click_hangup"]) in app.call_screen.header.plain
            # Clicking what looks like a link does nothing but dismiss the toast.
            for toast in list(app.screen.query(Toast)):
                await pilot.click(toast)
            await pilot.pause(0.1)
            assert not (Path.cwd() / "DIR").exists()
            assert not (tmp_path / "DIR").exists()
            assert app.return_code is None
            assert app.is_running
            levels = [level for level, _ in app.notices]
            assert "error" in levels


async def test_hostile_frames_close_reason_hangup_reason_and_exports(tmp_path: Path) -> None:
    plan = HostilePlan(
        transcript=f"{CORPUS['srt_cue']} {CORPUS['markdown']} {OSC52_CLIPBOARD} [link=https://x]y[/link]",
        hangup_reason=f"normal {CORPUS['click_quit']} {OSC0_TITLE}",
        raw_frames=[CORPUS["clear"], '{{"type": "{}", "data": {{"x": 1}}}}'.format(CORPUS["close_tag"]), "\x9b\x00"],
        close_reason=f"{OSC0_TITLE}[/x]",
        close_after=0.5,
    )
    async with hostile_service(plan) as hostile:
        app = hostile.app(tmp_path, dial=True)
        async with app.run_test(size=(150, 45), notifications=True) as pilot:
            await wait_until(
                pilot,
                lambda: app.session is not None and app.session.book.final_count["out"] >= 1,
                "the greeting (rewritten)",
                timeout=20,
            )
            app.call_screen.show_log(True)
            await wait_until(pilot, lambda: hostile.proxy.closed_once, "the hostile close")
            await wait_until(pilot, lambda: app.call_screen.events.counts.get("unrecognised", 0) >= 2, "the raw frames")
            await pilot.pause(0.3)
            assert_clean(app, tmp_path)
            events = " ".join(text for _, text in app.call_screen.events.entries)
            assert "\\x1b[2J" in events
            assert "[/x]" in events
            assert "\\x9b\\x00" in events
            shown = flat(" ".join(app.call_screen.transcript.plain_rows()))
            assert "\\x0a\\x0a2\\x0a00:00:00,000 --> 00:00:09,000\\x0aforged cue" in shown
            assert "[link=https://x]y[/link]" in shown

            await type_line(pilot, "/hangup")
            await wait_until(pilot, lambda: app.call_screen.summary.has_class("-shown"), "the summary", timeout=15)
            await pilot.pause(0.1)
            text = assert_clean(app, tmp_path)
            assert squeeze("[@click=app.quit]x[/]") in text
            assert squeeze("\\x1b]0;pwned title\\x07") in text

            await pilot.press("f7")
            await wait_until(pilot, lambda: app.exported, "the export")
    files = {p.suffix: p for p in app.exported}
    check_exports(files)


def check_exports(files: dict[str, Path]) -> None:
    from markdown_it import MarkdownIt

    for path in files.values():
        assert path.stat().st_mode & 0o777 == 0o600
    md = files[".md"].read_text(encoding="utf-8")
    assert raw_markers([md]) == []
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(md)
    assert html.count("<h1>") == 1
    assert "<h2>" in html
    assert "<h3>" not in html
    assert "<script" not in html
    assert "<a " not in html
    assert "<img" not in html
    srt = files[".srt"].read_text(encoding="utf-8")
    assert raw_markers([srt]) == []
    blocks = [b for b in srt.strip().split("\n\n") if b]
    for number, block in enumerate(blocks, 1):
        head, timing, *text = block.split("\n")
        assert head == str(number)
        assert re.fullmatch(r"\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d", timing)
        assert len(text) == 1
        assert "-->" not in text[0]
        assert "<" not in text[0]
    assert any("forged cue" in b for b in blocks)
    jsonl = files[".jsonl"].read_text(encoding="utf-8")
    assert "\\n\\n2\\n00:00:00,000 --> 00:00:09,000\\nforged cue" in jsonl, "JSONL keeps the exact text"


async def test_typed_commands_with_markup_do_not_crash(tmp_path: Path) -> None:
    app = console(tmp_path)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_until(pilot, lambda: app.started, "start-up")
        await wait_until(pilot, lambda: isinstance(app.screen, DialScreen), "the dial form")
        await pilot.press("escape")
        for line in ("/attach [/x]", "/attach [@click=app.quit]x[/]", "/nosuch[/x]", "/attach \x1b]0;t\x07"):
            await type_line(pilot, line)
            await pilot.pause(0.2)
            assert app.return_code is None, line
            assert app.is_running, line
        await wait_until(pilot, lambda: len(app.notices) >= 4, "a notice for each line")
        assert_clean(app, tmp_path)
        texts = " | ".join(text for _, text in app.notices)
        assert "[/x]" in texts
        assert "[@click=app.quit]x[/]" in texts
        assert "%1B%5D0%3Bt%07" in texts  # quoted into the URL path, so never raw
        assert raw_markers(texts.split(" | ")) == []


async def test_confirm_buttons_show_their_keys(tmp_path: Path) -> None:
    app = console(tmp_path)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_until(pilot, lambda: app.started, "start-up")
        choices = [Choice("hangup", "Hang up [/x]", "h", "error"), Choice("cancel", "Cancel", "escape")]
        result: list[Any] = []
        app.push_screen(ConfirmScreen("Title [/x]", "Body [b]not bold[/b] \x1b[2J", choices), result.append)
        await pilot.pause(0.1)
        labels = [str(b.label) for b in app.screen.query(Button)]
        assert sorted(labels) == ["Cancel [escape]", "Hang up [/x] [h]"]
        text = squeeze(screen_text(app))
        assert squeeze("Title [/x]") in text
        assert squeeze("Body [b]not bold[/b] \\x1b[2J") in text
        await pilot.press("escape")
        await pilot.pause()
        assert result == ["cancel"]


async def test_a_five_megabyte_error_message_is_shown_bounded(tmp_path: Path) -> None:
    message = OSC52_CLIPBOARD + "E" * 5_000_000 + CORPUS["close_tag"]
    plan = HostilePlan(fail={("POST", "/calls"): (400, "TOO_BIG", message)})
    async with hostile_service(plan) as hostile:
        app = hostile.app(tmp_path, dial=True)
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            # Generous waits: moving 5 MB through the proxy is slow on a loaded machine.
            await wait_until(pilot, lambda: app.notices, "the notice", timeout=30)
            await wait_until(pilot, lambda: isinstance(app.screen, DialScreen), "the dial form", timeout=30)
            form = app.screen
            assert isinstance(form, DialScreen)
            await wait_until(pilot, lambda: form.problem is not None, "the problem shown in the form", timeout=30)
            await pilot.pause(0.1)
            assert_clean(app, tmp_path)
            level, text = app.notices[-1]
            assert level == "error"
            assert len(text) < 2100
            assert "\\x1b]52;c;" in text
            notice = app.call_screen.notice.plain
            assert len(notice) < 1000
            log = (tmp_path / "console.log").read_text(encoding="utf-8")
            assert len(log) < 1_000_000, "the log keeps a bounded piece of the message"


async def test_a_hostile_start_up_failure_ends_with_one_escaped_bounded_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    message = f"{OSC0_TITLE}{CORPUS['click_quit']}\x1b[2J" + "M" * 3_000_000 + "\nsecond line"
    plan = HostilePlan(fail={("GET", "/customer"): (400, "\x9b[/x]", message)})
    async with hostile_service(plan) as hostile:
        app = hostile.app(tmp_path)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.return_code is not None, "the console to give up", timeout=20)
    assert app.return_code == 1
    err = capsys.readouterr().err
    assert err.startswith("voipbin-tui: cannot start")
    assert len(err) < 5000
    assert raw_markers([err]) == []
    # Printed to the terminal's width, so wrapped: compared without whitespace.
    assert squeeze("\\x1b]0;pwned title\\x07[@click=app.quit]x[/]\\x1b[2J") in squeeze(err)
    # Cut visibly: where the error is built (``…[cut: …]``) or where it is shown (``… (N more chars)``).
    assert re.search(r"…\[cut:|…\(\d+morechars\)\(detailsin", squeeze(err))
