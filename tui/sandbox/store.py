"""In-memory state of the sandbox and the list/pagination rules shared by every list endpoint."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from tui.sandbox import errors
from tui.sandbox.encoding import parse_time, token_time
from tui.sandbox.models import (
    Call,
    Customer,
    Extension,
    Groupcall,
    Number,
    Speaking,
    Transcribe,
    Transcript,
)

T = TypeVar("T")

MAX_PAGE_SIZE = 100
_INT_RE = re.compile(r"^[+-]?[0-9]+$")


def parse_page_size(raw: str | None) -> int:
    """Missing, zero, negative or above 100 means 100; a non-integer is a binding error (400)."""
    if raw is None:
        return MAX_PAGE_SIZE
    if not _INT_RE.match(raw):
        raise errors.invalid_parameter("page_size")
    value = int(raw)
    if not -(2**63) <= value < 2**63:
        raise errors.invalid_parameter("page_size")
    if value <= 0 or value > MAX_PAGE_SIZE:
        return MAX_PAGE_SIZE
    return value


def paginate(
    items: Iterable[T],
    created: Callable[[T], dt.datetime],
    page_size: int,
    page_token: str | None,
) -> tuple[list[T], str]:
    """Newest first, ``tm_create < page_token``; the token is the last item's tm_create (6 digits)."""
    ordered = sorted(items, key=created, reverse=True)
    if page_token:
        limit = parse_time(page_token)
        # An unparseable cursor matches nothing rather than everything.
        ordered = [] if limit is None else [item for item in ordered if created(item) < limit]
    page = ordered[:page_size]
    token = token_time(created(page[-1])) if page else ""
    return page, token


class Store:
    """All resources of the single seeded customer."""

    def __init__(self) -> None:
        self.customer: Customer | None = None
        self.numbers: dict[str, Number] = {}
        self.extensions: dict[str, Extension] = {}
        self.calls: dict[str, Call] = {}
        self.groupcalls: dict[str, Groupcall] = {}
        self.speakings: dict[str, Speaking] = {}
        self.transcribes: dict[str, Transcribe] = {}
        self.transcripts: dict[str, list[Transcript]] = {}
        self._last_stamp: dt.datetime | None = None

    def stamp(self) -> dt.datetime:
        """Current UTC time at microsecond precision, strictly increasing so cursors never tie."""
        now = dt.datetime.now(dt.UTC)
        if self._last_stamp is not None and now <= self._last_stamp:
            now = self._last_stamp + dt.timedelta(microseconds=1)
        self._last_stamp = now
        return now

    def extension_by_key(self, key: str) -> Extension | None:
        for ext in self.extensions.values():
            if ext.extension == key:
                return ext
        return None

    def number_owned(self, number: str) -> bool:
        return any(n.number == number for n in self.numbers.values())
