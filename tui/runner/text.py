"""Text someone else wrote (transcripts, reasons, file content, exception messages), made safe for the
runner's terminal output: the project's one rule for remote text, ``tui.voipbin.safetext``, with the
runner's keyword."""

from __future__ import annotations

from tui.voipbin.safetext import safe_text


def printable(text: str, *, keep_newlines: bool = False) -> str:
    return safe_text(text, newlines=keep_newlines)
