"""The call's transcript as the user sees it: finals, live interim text, SAY lines, gap markers, notes.

Lines are kept in time order whatever order the events arrive in (delivery is unordered), transcripts
are de-duplicated by id, and a direction's interim line is replaced by the final transcript that ends
the utterance. Every mutation returns the changes so a view can patch itself instead of redrawing.
"""

from __future__ import annotations

import bisect
import itertools
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

LineKind = Literal["transcript", "interim", "say", "gap", "note", "step"]
ChangeOp = Literal["insert", "update", "remove"]


@dataclass(slots=True, eq=False)
class TranscriptLine:
    key: str
    kind: LineKind
    direction: str
    text: str
    at: datetime
    seq: int
    transcript_id: str | None = None
    transcribe_id: str | None = None
    offset: float | None = None
    backfilled: bool = False
    # Free-form extras for the view: say state and latency, gap counts, note level…
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def sort_key(self) -> tuple[datetime, int]:
        return (self.at, self.seq)


@dataclass(frozen=True, slots=True)
class TranscriptChange:
    op: ChangeOp
    line: TranscriptLine
    index: int


class TranscriptBook:
    """An ordered, bounded set of transcript lines with change reporting."""

    def __init__(self, max_lines: int = 50_000, remember_ids: int | None = None) -> None:
        self._lines: list[TranscriptLine] = []
        self._by_key: dict[str, TranscriptLine] = {}
        # Ids already shown, kept longer than the lines so a late duplicate of an evicted line is still
        # recognised; bounded so a ten-hour session does not grow without limit.
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._max_lines = max_lines
        # Duplicates arrive close together (broad prefixes, reconnect backfills of the newest 100).
        self._remember = remember_ids if remember_ids is not None else max(2 * max_lines, 20_000)
        self._seq = itertools.count()
        self.evicted = 0
        self.final_count = {"in": 0, "out": 0}

    # -- reading ----------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._lines)

    def __iter__(self) -> Iterator[TranscriptLine]:
        return iter(self._lines)

    @property
    def lines(self) -> list[TranscriptLine]:
        return list(self._lines)

    def get(self, key: str) -> TranscriptLine | None:
        return self._by_key.get(key)

    def index_of(self, line: TranscriptLine) -> int:
        i = bisect.bisect_left(self._lines, line.sort_key, key=_sort_key)
        while i < len(self._lines) and self._lines[i] is not line:
            i += 1
        if i >= len(self._lines):
            raise KeyError(line.key)
        return i

    # -- writing ----------------------------------------------------------------------------------------

    def add_transcript(
        self,
        *,
        transcript_id: str,
        transcribe_id: str,
        direction: str,
        text: str,
        at: datetime,
        offset: float | None = None,
        backfilled: bool = False,
    ) -> list[TranscriptChange]:
        """Add a final transcript; a no-op (empty list) if this id was already added."""
        if transcript_id in self._seen:
            return []
        self._remember_id(transcript_id)
        changes: list[TranscriptChange] = []
        interim = self._by_key.get(_interim_key(transcribe_id, direction))
        if interim is not None:
            changes.append(self._remove(interim))
        line = TranscriptLine(
            key="t:" + transcript_id,
            kind="transcript",
            direction=direction,
            text=text,
            at=at,
            seq=next(self._seq),
            transcript_id=transcript_id,
            transcribe_id=transcribe_id,
            offset=offset,
            backfilled=backfilled,
        )
        if direction in self.final_count:
            self.final_count[direction] += 1
        changes.append(self._insert(line))
        changes.extend(self._evict())
        return changes

    def set_interim(self, *, transcribe_id: str, direction: str, text: str, at: datetime) -> list[TranscriptChange]:
        """Show (or replace) the live partial text of one direction."""
        key = _interim_key(transcribe_id, direction)
        line = self._by_key.get(key)
        if line is not None:
            if line.text == text:
                return []
            line.text = text
            return [TranscriptChange("update", line, self.index_of(line))]
        line = TranscriptLine(
            key=key,
            kind="interim",
            direction=direction,
            text=text,
            at=at,
            seq=next(self._seq),
            transcribe_id=transcribe_id,
        )
        return [self._insert(line), *self._evict()]

    def clear_interim(self, *, transcribe_id: str, direction: str) -> list[TranscriptChange]:
        line = self._by_key.get(_interim_key(transcribe_id, direction))
        return [self._remove(line)] if line is not None else []

    def clear_all_interim(self) -> list[TranscriptChange]:
        return [self._remove(line) for line in [ln for ln in self._lines if ln.kind == "interim"]]

    def add_line(
        self,
        *,
        key: str,
        kind: LineKind,
        text: str,
        at: datetime | None = None,
        direction: str = "",
        meta: dict[str, Any] | None = None,
    ) -> list[TranscriptChange]:
        """Add a SAY line, a gap marker or a note. Re-adding an existing key updates it instead."""
        existing = self._by_key.get(key)
        if existing is not None:
            return self.update_line(key, text=text, meta=meta)
        line = TranscriptLine(
            key=key,
            kind=kind,
            direction=direction,
            text=text,
            at=at or datetime.now(UTC),
            seq=next(self._seq),
            meta=dict(meta or {}),
        )
        return [self._insert(line), *self._evict()]

    def update_line(
        self, key: str, *, text: str | None = None, meta: dict[str, Any] | None = None
    ) -> list[TranscriptChange]:
        line = self._by_key.get(key)
        if line is None:
            return []
        if text is not None:
            line.text = text
        if meta:
            line.meta.update(meta)
        return [TranscriptChange("update", line, self.index_of(line))]

    # -- internals --------------------------------------------------------------------------------------

    def _insert(self, line: TranscriptLine) -> TranscriptChange:
        lines = self._lines
        if not lines or lines[-1].sort_key <= line.sort_key:
            lines.append(line)
            index = len(lines) - 1
        else:
            index = bisect.bisect_right(lines, line.sort_key, key=_sort_key)
            lines.insert(index, line)
        self._by_key[line.key] = line
        return TranscriptChange("insert", line, index)

    def _remove(self, line: TranscriptLine) -> TranscriptChange:
        index = self.index_of(line)
        del self._lines[index]
        del self._by_key[line.key]
        return TranscriptChange("remove", line, index)

    def _evict(self) -> list[TranscriptChange]:
        changes = []
        while len(self._lines) > self._max_lines:
            line = self._lines[0]
            changes.append(self._remove(line))
            self.evicted += 1
        return changes

    def _remember_id(self, transcript_id: str) -> None:
        self._seen[transcript_id] = None
        if len(self._seen) > self._remember:
            self._seen.popitem(last=False)


def _interim_key(transcribe_id: str, direction: str) -> str:
    return f"i:{transcribe_id}:{direction}"


def _sort_key(line: TranscriptLine) -> tuple[datetime, int]:
    return (line.at, line.seq)


def find_line(lines: Sequence[TranscriptLine], query: str, start: int, *, forward: bool = True) -> int | None:
    """The index of the first line after ``start`` (before it, going back) whose text contains ``query``,
    ignoring case; the search wraps around and may end on ``start`` itself. None when no line matches.

    ``start`` may be -1 or ``len(lines)`` to search from either end.
    """
    needle = query.casefold()
    count = len(lines)
    if not needle or not count:
        return None
    # One pass in each of at most two ranges; str.casefold and ``in`` run in C, which is what keeps a
    # search through 100 000 lines within a few tens of milliseconds.
    if forward:
        ranges = (range(start + 1, count), range(min(start + 1, count)))
    else:
        ranges = (range(min(start, count) - 1, -1, -1), range(count - 1, max(start, 0) - 1, -1))
    for indices in ranges:
        for i in indices:
            if needle in lines[i].text.casefold():
                return i
    return None
