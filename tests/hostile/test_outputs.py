"""Outputs other than the screen: the log file, the exports, ``watch``'s stdout and stderr, the console's
fatal line, and how a megabyte line is drawn."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from textual.app import App, ComposeResult

from tests.hostile.conftest import hostile_service
from tests.hostile.corpus import ALL_HOSTILE, CORPUS, OSC0_TITLE, OSC52_CLIPBOARD, RAW_MARKERS, big_line
from tests.hostile.proxy import HostilePlan
from tui.logsetup import MESSAGE_LIMIT, configure_file_logging
from tui.session.export import md_inline, srt_text
from tui.session.transcript import TranscriptBook
from tui.ui.clock import UiClock
from tui.ui.widgets.transcript_view import LINE_LIMIT, TranscriptView
from tui.watchcmd import STDERR_LIMIT


def raw(text: str) -> list[str]:
    return [m for m in RAW_MARKERS if m in text]


# -- the log file -------------------------------------------------------------------------------------------


def test_log_records_are_escaped_one_line_each_and_bounded(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "console.log"
    assert configure_file_logging(path, "DEBUG") == path
    log = logging.getLogger("tui.test")
    for name, text in CORPUS.items():
        log.warning("remote said %s: %s", name, text)
    log.warning("huge: %s", "x" * (MESSAGE_LIMIT * 3))
    try:
        raise ValueError(f"bad {OSC52_CLIPBOARD}\nsecond line")
    except ValueError:
        log.exception("with a traceback")
    for handler in logging.getLogger().handlers:
        handler.flush()
    content = path.read_text(encoding="utf-8")
    assert raw(content) == [], [ln[:300] for ln in content.splitlines() if raw(ln)]
    lines = content.splitlines()
    said = [ln for ln in lines if "remote said" in ln]
    assert len(said) == len(CORPUS), "a newline in a message cannot forge a log line"
    assert "remote said srt_cue: ok\\x0a\\x0a2\\x0a" in content
    huge = next(ln for ln in lines if "huge:" in ln)
    assert len(huge) < MESSAGE_LIMIT + 200
    assert huge.endswith("more chars)")
    assert "Traceback (most recent call last):" in content, "tracebacks keep their own lines"
    assert "ValueError: bad \\x1b]52;c;" in content


def test_log_files_are_private_after_rotation_too(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "console.log"
        configure_file_logging(path, "INFO")
        logging.getLogger("tui.test").warning("before")
        handler = next(h for h in logging.getLogger().handlers if isinstance(h, logging.handlers.RotatingFileHandler))
        handler.doRollover()
        logging.getLogger("tui.test").warning("after")
        handler.doRollover()
    finally:
        os.umask(old)
    files = sorted(tmp_path.glob("console.log*"))
    assert [f.name for f in files] == ["console.log", "console.log.1", "console.log.2"]
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name


# -- exports ------------------------------------------------------------------------------------------------


MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_markdown_shows_every_hostile_line_as_text(name: str) -> None:
    line = md_inline(CORPUS[name])
    assert "\n" not in line
    assert raw(line) == []
    html = MD.render(f"- **caller**: {line}\n")
    for tag in ("<h", "<a ", "<img", "<script", "<em", "<strong><", "<code", "<del", "<br"):
        assert tag not in html.replace("<strong>caller</strong>", ""), (tag, html)
    assert html.startswith("<ul>\n<li><strong>caller</strong>: ")


def test_markdown_shows_the_words_back() -> None:
    # What a reader sees is the text itself (escapes removed by the Markdown renderer), nothing else.
    html = MD.render(md_inline("Hi [there](x) *you* <b>ok</b> 1 & 2 www.example.com a@b.c"))
    assert html == "<p>Hi [there](x) *you* &lt;b&gt;ok&lt;/b&gt; 1 &amp; 2 www.example.com a@b.c</p>\n"


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_srt_text_cannot_end_its_cue_or_open_a_tag(name: str) -> None:
    line = srt_text(CORPUS[name])
    assert "\n" not in line
    assert raw(line) == []
    assert "<" not in line
    assert "{" not in line
    assert "-->" not in line


# -- watch ---------------------------------------------------------------------------------------------------


async def test_watch_prints_a_hostile_50_mb_class_error_as_one_short_escaped_line(tmp_path: Path) -> None:
    message = f"{OSC0_TITLE}{OSC52_CLIPBOARD}\x1b[2J" + "A" * 2_000_000 + "\nsecond line"
    plan = HostilePlan(fail={("GET", "/customer"): (400, "\x9b[/x]", message)})
    async with hostile_service(plan) as hostile:
        env = {
            **os.environ,
            "VOIPBIN_LOG__FILE": str(tmp_path / "watch.log"),
        }
        proc = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("voipbin-tui")),
            "watch",
            "--api-url",
            hostile.proxy.api_url,
            "--accesskey",
            hostile.sandbox.accesskey,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 1
    assert out == b""
    text = err.decode("utf-8")
    assert text.count("\n") == 1, "one line"
    assert len(text) < STDERR_LIMIT + 100
    assert raw(text) == []
    assert text.startswith("voipbin-tui watch: ")
    assert "\\x1b]0;pwned title\\x07" in text
    # Cut visibly: where the error is built (``…[cut: …]``) or where it is printed (``… (N more chars)``).
    assert "…[cut:" in text or text.rstrip().endswith("more chars)")


def test_watch_json_lines_escape_what_json_leaves_raw() -> None:
    from tui.voipbin.safetext import safe_json_text

    line = json.dumps({"message": ALL_HOSTILE}, ensure_ascii=False)
    safe = safe_json_text(line)
    assert json.loads(safe) == {"message": ALL_HOSTILE}
    assert raw(safe) == []


# -- a megabyte line on screen ------------------------------------------------------------------------------


class ViewApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.view = TranscriptView(clock=UiClock.frozen())

    def compose(self) -> ComposeResult:
        yield self.view


async def test_a_megabyte_transcript_line_is_drawn_bounded_and_escaped() -> None:
    from datetime import UTC, datetime

    app = ViewApp()
    async with app.run_test(size=(100, 30)) as pilot:
        book = TranscriptBook()
        text = big_line()
        tracemalloc.start()
        started = time.perf_counter()
        changes = book.add_transcript(
            transcript_id="t1", transcribe_id="tr", direction="in", text=text, at=datetime.now(UTC)
        )
        app.view.apply(changes)
        await pilot.pause()
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows = app.view.plain_rows()
        # Figures for the report (pytest -s shows them); the goal itself lives in bench/.
        print(f"1 MB transcript line: drawn in {elapsed * 1000:.0f} ms, peak {peak / 1e6:.1f} MB, {len(rows)} rows")
    joined = "".join(rows)
    assert raw(joined) == []
    assert "\\x1b]52;c;" in joined
    assert len(rows) <= LINE_LIMIT // (100 - 14) + 5
    assert "more chars)" in joined
