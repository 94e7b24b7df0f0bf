"""The layout in a real terminal (tmux) from 80 to 200 columns: whole footer labels, F12, a log that grows,
a record path that is not folded mid-name."""

from __future__ import annotations

import os
import re
import shlex
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.test_tmux import Terminal, flat, needs_tmux
from tui.actions.keys import key_label
from tui.actions.registry import ACTIONS

pytestmark = pytest.mark.e2e


def footer_labels() -> list[str]:
    """``^q Quit``, ``F1 Help``, … in the footer's order (the priority binding, quit, comes first)."""
    shown = [a for a in ACTIONS if a.keys and a.footer and not a.widget]
    shown.sort(key=lambda a: not a.priority)
    return [f"{key_label(a.keys.split(',')[0])} {a.title}" for a in shown]


def resize(term: Terminal, width: int, height: int = 30) -> None:
    term.tmux("resize-window", "-t", term.session, "-x", str(width), "-y", str(height))


@needs_tmux
def test_footer_log_and_record_path_fit_the_terminal(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "voipbin-tui"
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / "state-of-a-rather-long-directory-name"),
        "LANG": "C.UTF-8",
        "TERM": "xterm",
    }
    term = Terminal(env)
    labels = footer_labels()
    try:
        term.start(f"{shlex.quote(str(exe))} --dial")
        term.wait_for(lambda s: "speaking active" in s, "the speaking stream", timeout=40)
        for width in (80, 90, 100, 110, 120, 200):
            resize(term, width)

            def settled(screen: str, width: int = width) -> bool:
                lines = screen.splitlines()
                return bool(lines) and lines[-1].rstrip().endswith("▏^p palette") and len(lines[0]) <= width

            screen = term.wait_for(settled, f"the footer at {width} columns", timeout=10)
            time.sleep(0.3)
            footer = term.screen().splitlines()[-1].rstrip()
            assert footer.endswith("▏^p palette"), f"nothing after the palette hint at {width}: {footer!r}"
            keys = flat(footer.rsplit("▏", 1)[0])
            shown = [label for label in labels if label in keys]
            assert shown, footer
            # Whole labels only, in order, from the first: a prefix of the full list, nothing cut.
            assert keys == " ".join(labels[: len(shown)]), f"a label is cut at {width} columns: {footer!r}"
            if width == 200:
                assert "F12 Resend" in keys, footer
            del screen
        term.send("F6")
        time.sleep(0.8)
        rows = [r for r in term.screen().splitlines()[3:-3] if "▏" in r]
        assert rows
        # tmux trims trailing blanks: the side column starts at its border, counted from the left.
        side = min(200 - r.index("▏") for r in rows)
        assert side >= 70, f"the event log stays narrow at 200 columns ({side})"
        resize(term, 80)
        term.send("F8")
        screen = term.wait_for(lambda s: "Call ended" in s, "the summary", timeout=30)
        record = [line for line in screen.splitlines() if "record " in line]
        assert record, screen
        assert re.search(r"session-[0-9-]+\.jsonl", record[0]), f"the record path is folded: {record}"
        term.send("C-q")
    finally:
        term.close()
