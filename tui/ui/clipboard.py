"""Text leaving the console for the terminal's clipboard (OSC 52, so it works over SSH).

Copied text is mostly remote text (transcripts, ids, raw frames). The terminal receives it inside an
escape sequence, so it goes through the one rule for remote text first (``tui.voipbin.safetext``): no
control, bidi or invisible format character survives; tabs and newlines do, they are what a pasted
transcript needs.
"""

from __future__ import annotations

from tui.voipbin.safetext import safe_text


def clipboard_text(text: str) -> str:
    """``text`` as it may be handed to the terminal's clipboard: every unsafe character a visible escape."""
    return safe_text(text.replace("\r\n", "\n"), tabs=True, newlines=True)
