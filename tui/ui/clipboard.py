"""Text leaving the console for the terminal's clipboard (OSC 52, so it works over SSH).

Copied text is mostly remote text (transcripts, ids, raw frames). The terminal receives it inside an
escape sequence, so it is made safe first: no control, bidi or invisible format character survives
(tabs and newlines do, they are what a pasted transcript needs).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Final, cast


def _shared_rule() -> Callable[..., str] | None:
    # The project's one rule for remote text (tui.voipbin.safetext) once it is on this branch; until then
    # the fallback below escapes the same characters that matter to a terminal.
    try:
        module = importlib.import_module("tui.voipbin.safetext")
    except ImportError:
        return None
    return cast("Callable[..., str]", module.safe_text)


_safe_text = _shared_rule()

# Fallback: C0 but tab and newline, DEL, C1, and the bidi/zero-width format characters.
_UNSAFE: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def clipboard_text(text: str) -> str:
    """``text`` as it may be handed to the terminal's clipboard: every unsafe character a visible escape."""
    if _safe_text is not None:
        return _safe_text(text, tabs=True, newlines=True)
    return _UNSAFE.sub(_escape, text.replace("\r\n", "\n"))
