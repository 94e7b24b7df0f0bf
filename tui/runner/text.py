"""Untrusted text (transcripts, reasons, file content) made safe for a terminal, a log or an XML report.

Control characters (C0, C1, DEL) and bidi/format controls become visible ``\\xNN`` / ``\\u….`` escapes,
so a transcript can never move the cursor, set a title or reorder what a reader sees.
"""

from __future__ import annotations

import unicodedata


def printable(text: str, *, keep_newlines: bool = False) -> str:
    out: list[str] = []
    for ch in text:
        if keep_newlines and ch == "\n":
            out.append(ch)
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs", "Co", "Cn") or ch in ("\u2028", "\u2029"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)
