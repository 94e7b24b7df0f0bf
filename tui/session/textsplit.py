"""Split text for /say, whose limit is 5000 UTF-8 **bytes** (Go ``len``), not characters."""

from __future__ import annotations

import re
from collections.abc import Iterable

SAY_LIMIT_BYTES = 5000

# A sentence ends at . ! ? … or a CJK full stop, followed by space or the end.
_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])\s+")
_SPACE = re.compile(r"\s+")


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def split_for_say(text: str, limit: int = SAY_LIMIT_BYTES) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` bytes, on sentence, else word, else character bounds.

    Whitespace at the cuts is dropped; nothing else is lost, and no multi-byte character is ever split.
    Returns [] for blank text.
    """
    if limit < 4:
        raise ValueError("limit must leave room for one UTF-8 character")
    text = text.strip()
    if not text:
        return []
    if utf8_len(text) <= limit:
        return [text]
    units = (unit for sentence in _SENTENCE_END.split(text) for unit in _fit(sentence, limit))
    return _pack(units, limit)


def _fit(sentence: str, limit: int) -> list[str]:
    """A sentence as-is if it fits, else its words packed greedily, else hard cuts of one long word."""
    if utf8_len(sentence) <= limit:
        return [sentence]
    return _pack((chunk for word in _SPACE.split(sentence) if word for chunk in _hard_cut(word, limit)), limit)


def _pack(units: Iterable[str], limit: int) -> list[str]:
    """Join units with single spaces into as few pieces of at most ``limit`` bytes as they allow."""
    pieces: list[str] = []
    current = ""
    for unit in units:
        candidate = f"{current} {unit}" if current else unit
        if utf8_len(candidate) <= limit:
            current = candidate
        else:
            pieces.append(current)
            current = unit
    if current:
        pieces.append(current)
    return pieces


def _hard_cut(word: str, limit: int) -> list[str]:
    if utf8_len(word) <= limit:
        return [word]
    chunks: list[str] = []
    buf: list[str] = []
    size = 0
    for ch in word:
        n = utf8_len(ch)
        if size + n > limit:
            chunks.append("".join(buf))
            buf, size = [], 0
        buf.append(ch)
        size += n
    if buf:
        chunks.append("".join(buf))
    return chunks
