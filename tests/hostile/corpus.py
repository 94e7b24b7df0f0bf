"""Hostile strings: what a caller, a proxy or a server in the middle can put into text we show or write.

Each entry has a name (for test ids) and the string. ``MARKERS`` are fragments that must never reach a
terminal, a log or an export raw; ``ACTION_BAIT`` are markup fragments that would run an app action if
they were ever parsed as markup.
"""

from __future__ import annotations

from typing import Final

ESC: Final = "\x1b"
BEL: Final = "\x07"

OSC52_CLIPBOARD: Final = f"{ESC}]52;c;aGFja2VkIGNsaXBib2FyZA=={BEL}"
OSC0_TITLE: Final = f"{ESC}]0;pwned title{BEL}"
CLEAR_SCREEN: Final = f"{ESC}[2J{ESC}[H"
FAKE_PROMPT: Final = f"{CLEAR_SCREEN}enter password: "

CORPUS: Final[dict[str, str]] = {
    "osc52": f"copy this {OSC52_CLIPBOARD} please",
    "osc0": f"title {OSC0_TITLE} change",
    "clear": f"{FAKE_PROMPT}now",
    "nul": "nul\x00byte",
    "c1_csi": "c1\x9b2Jcsi",
    "del": "del\x7fete",
    "cr": "over\rwrite",
    "close_tag": "bad [/x] ext",
    "click_quit": "[@click=app.quit]x[/]",
    "click_screenshot": "[@click=app.screenshot('x','DIR')]Click here to retry[/]",
    "click_hangup": "[@click=app.hangup]retry[/]",
    "link": "[link=javascript:alert(1)]open[/link]",
    "bracket_word": "hint: check [session] export_dir",
    "bidi": "file\u202etxt.exe\u202c and \u2067isolate\u2069",
    "zero_width": "zero\u200bwidth\u200d\ufeffjoin",
    "newline": "line one\nline two",
    "srt_cue": "ok\n\n2\n00:00:00,000 --> 00:00:09,000\nforged cue",
    "markdown": "# Heading\n<script>alert(1)</script> [click](javascript:alert(1)) ![x](http://e/x.png)",
}

# Built on demand: a megabyte line is too much to keep in every test id.
BIG_LINE_CHARS: Final = 1_000_000


def big_line() -> str:
    """About 1 MB of text with an escape sequence near each end."""
    body = "word " * (BIG_LINE_CHARS // 5)
    return OSC52_CLIPBOARD + body[: BIG_LINE_CHARS - 2 * len(OSC52_CLIPBOARD)] + OSC0_TITLE


# Fragments that must never survive into output meant for a terminal, a log or an export.
RAW_MARKERS: Final[tuple[str, ...]] = (ESC, BEL, "\x00", "\x9b", "\x7f", "\r", "\u202e", "\u2067", "\u200b", "\ufeff")

ALL_HOSTILE: Final[str] = " | ".join(CORPUS.values())
