"""Untrusted text → text that is safe to show, log or write: the one rule for remote text.

Everything another party wrote (transcripts, names, call fields, error messages and reasons, close
reasons, raw frames, files) may carry bytes a terminal obeys: ESC sequences (OSC 52 clipboard writes,
title changes, screen clears), C1 controls (U+009B is a one-character CSI), and invisible format
characters that reorder or hide what is shown (bidi overrides and isolates, zero-width characters).
``safe_text`` replaces each of them with a visible escape in Python's own notation:

- ``\\xNN`` for code points up to U+00FF (ESC → ``\\x1b``, NUL → ``\\x00``, CSI U+009B → ``\\x9b``),
- ``\\uNNNN`` for the rest of the BMP (RIGHT-TO-LEFT OVERRIDE → ``\\u202e``),
- ``\\UNNNNNNNN`` above it (a language tag → ``\\U000e0001``).

Tab and newline are escaped too unless the caller's format allows them (``tabs=True``,
``newlines=True``); carriage return never survives (it overwrites a line on screen). A backslash is not
doubled: the output is for people, not a reversible encoding (the session record and the JSONL export
keep the exact text), and not doubling it is what makes ``safe_text`` idempotent.

The fast path (nothing to replace, the common case) is one ``str.isprintable()``. No imports beyond
the standard library, so every layer (voipbin, session, watch, logging, ui) can use it.
"""

from __future__ import annotations

import functools
import re
from typing import Final

# Unicode general category Cf (format characters, all invisible), as of Unicode 15.1, plus line and
# paragraph separators (Zl, Zp) and lone surrogates (which cannot even be encoded for a terminal).
# A test checks this list against ``unicodedata`` so a newer Python's table cannot silently widen it.
_FORMAT_RANGES: Final[str] = (
    "\u00ad"
    "\u0600-\u0605"
    "\u061c"
    "\u06dd"
    "\u070f"
    "\u0890-\u0891"
    "\u08e2"
    "\u180e"
    "\u200b-\u200f"
    "\u2028-\u202e"
    "\u2060-\u2064"
    "\u2066-\u206f"
    "\ud800-\udfff"
    "\ufeff"
    "\ufff9-\ufffb"
    "\U000110bd"
    "\U000110cd"
    "\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a"
    "\U000e0001"
    "\U000e0020-\U000e007f"
)

# C0 without tab and newline, DEL and C1; tab and newline get their own patterns below.
_CONTROL_RANGES: Final[str] = "\x00-\x08\x0b-\x1f\x7f-\x9f"


@functools.cache
def _unsafe(tabs: bool, newlines: bool) -> re.Pattern[str]:
    # Compiled on first use: the character class costs ~3 ms each, which start-up need not pay.
    return re.compile(
        "[" + _CONTROL_RANGES + ("" if tabs else "\t") + ("" if newlines else "\n") + _FORMAT_RANGES + "]"
    )


TRUNCATION_MARK: Final[str] = "… ({more} more chars)"


def escape_char(char: str) -> str:
    """The visible escape of one character: ``\\x1b``, ``\\u202e``, ``\\U000e0001``."""
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _escape_match(match: re.Match[str]) -> str:
    return escape_char(match.group())


def is_safe(text: str, *, tabs: bool = False, newlines: bool = False) -> bool:
    """True when ``text`` has nothing ``safe_text`` would replace (length aside)."""
    # str.isprintable() is False for every character we escape (Cc, Cf, Cs, Zl, Zp are all "not
    # printable"), and it runs in C about five times faster than the pattern: most text ends here.
    probe = text
    if tabs and "\t" in probe:
        probe = probe.replace("\t", "")
    if newlines and "\n" in probe:
        probe = probe.replace("\n", "")
    if probe.isprintable():
        return True
    # Printable-false is also true of harmless characters (no-break space, private use, unassigned).
    return _unsafe(tabs, newlines).search(text) is None


def safe_text(text: str, *, tabs: bool = False, newlines: bool = False, limit: int | None = None) -> str:
    """``text`` with every control, bidi and invisible format character shown as an escape.

    ``limit`` caps the result at about that many characters (escapes count at their shown width) and
    ends a cut text with ``… (N more chars)``, N counting characters of the original that were left out.
    """
    pattern = _unsafe(tabs, newlines)
    if limit is None:
        return text if is_safe(text, tabs=tabs, newlines=newlines) else pattern.sub(_escape_match, text)
    limit = max(0, limit)
    if len(text) <= limit and is_safe(text, tabs=tabs, newlines=newlines):
        return text
    shown, consumed = safe_prefix(text, limit, tabs=tabs, newlines=newlines)
    more = len(text) - consumed
    if more <= 0:
        return shown
    return shown + TRUNCATION_MARK.format(more=more)


def safe_prefix(text: str, limit: int, *, tabs: bool = False, newlines: bool = False) -> tuple[str, int]:
    """The escaped form of the longest prefix of ``text`` that fits in ``limit`` characters (never cutting
    an escape), and how many characters of ``text`` it shows."""
    pattern = _unsafe(tabs, newlines)
    # Never escape more than could be shown: the head is at most ``limit`` characters of the original.
    head = text[: max(0, limit)]
    shown = pattern.sub(_escape_match, head)
    if len(shown) <= limit:
        return shown, len(head)
    return _fit(head, pattern, limit)


def _fit(head: str, pattern: re.Pattern[str], limit: int) -> tuple[str, int]:
    """The longest escaped prefix of ``head`` within ``limit`` characters that does not cut an escape."""
    parts: list[str] = []
    size = 0
    position = 0
    for match in pattern.finditer(head):
        plain = head[position : match.start()]
        if size + len(plain) >= limit:
            take = limit - size
            parts.append(plain[:take])
            return "".join(parts), position + take
        escape = escape_char(match.group())
        if size + len(plain) + len(escape) > limit:
            parts.append(plain)
            return "".join(parts), match.start()
        parts += [plain, escape]
        size += len(plain) + len(escape)
        position = match.end()
    take = limit - size
    parts.append(head[position : position + take])
    return "".join(parts), position + min(take, len(head) - position)


def safe_line(text: str, limit: int | None = None) -> str:
    """One line of display text: newlines and tabs escaped too."""
    return safe_text(text, limit=limit)


def safe_json_text(text: str) -> str:
    """A JSON document with the characters a terminal could obey written as ``\\uXXXX`` escapes.

    JSON encoders escape C0 already; with ``ensure_ascii=False`` they leave DEL, C1 and format characters
    raw. Re-escaping them keeps the document's meaning exactly (a parser reads the same string) while the
    bytes become harmless on a terminal. Astral characters become a surrogate pair, as JSON requires.
    """
    if is_safe(text, tabs=True, newlines=True):
        return text
    return _unsafe(True, True).sub(_json_escape_match, text)


def _json_escape_match(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


# XML 1.0 (JUnit reports) cannot carry the noncharacters U+FFFE and U+FFFF at all, escaped or not, and
# they are not controls a terminal obeys, so only the XML form escapes them.
_XML_NONCHARACTERS: Final[re.Pattern[str]] = re.compile("[\ufffe\uffff]")


def safe_xml_text(text: str) -> str:
    """``safe_text`` that keeps tabs and newlines and also escapes what XML 1.0 cannot hold."""
    shown = safe_text(text, tabs=True, newlines=True)
    return _XML_NONCHARACTERS.sub(_escape_match, shown)
