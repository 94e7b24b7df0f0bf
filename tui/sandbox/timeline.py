"""``GET /aggregated-events``: every event of one activeflow, newest first, with its event type.

The real service stores ``call_``, ``groupcall_``, ``transcribe_``, ``transcript_``, ``transcribe_speech_``
and ``speaking_`` events with the activeflow they belong to. Here each published event is kept with the
ids it refers to, and a query collects the ids that belong to the activeflow (its calls, their
groupcalls, transcribes and speakings) when it runs, so a groupcall event published before its leg existed
is still found.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui.sandbox import errors
from tui.sandbox.encoding import go_time, parse_time, token_time

if TYPE_CHECKING:
    from tui.sandbox.store import Store

PREFIXES = ("call_", "groupcall_", "transcribe_", "transcript_", "speaking_")
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
# The sandbox keeps the newest events only; a long soak must not grow without bound.
MAX_RECORDS = 200_000
_INT_RE = re.compile(r"^[+-]?[0-9]+$")


@dataclass(frozen=True)
class TimelineRecord:
    timestamp: dt.datetime
    event_type: str
    data: dict[str, Any]
    refs: frozenset[str]

    def to_json(self) -> dict[str, Any]:
        return {"timestamp": go_time(self.timestamp), "event_type": self.event_type, "data": self.data}


def parse_page_size(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not _INT_RE.match(raw) or not -(2**63) <= int(raw) < 2**63:
        raise errors.invalid_parameter("page_size")
    value = int(raw)
    if value <= 0:
        return DEFAULT_PAGE_SIZE
    return min(value, MAX_PAGE_SIZE)


class Timeline:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.records: deque[TimelineRecord] = deque(maxlen=MAX_RECORDS)

    def record(self, event_type: str, payload: dict[str, Any]) -> None:
        if not event_type.startswith(PREFIXES):
            return
        refs = frozenset(
            value for key in ("id", "reference_id", "transcribe_id") if isinstance(value := payload.get(key), str)
        )
        self.records.append(TimelineRecord(self.store.stamp(), event_type, payload, refs))

    def activeflow_of_call(self, call_id: str) -> str:
        call = self.store.calls.get(call_id)
        if call is None:
            raise errors.call_not_found()
        return call.activeflow_id

    def ids_of(self, activeflow_id: str) -> set[str]:
        calls = {c.id for c in self.store.calls.values() if c.activeflow_id == activeflow_id}
        ids = set(calls)
        ids.update(g.id for g in self.store.groupcalls.values() if calls.intersection(g.call_ids))
        ids.update(t.id for t in self.store.transcribes.values() if t.reference_id in calls)
        ids.update(s.id for s in self.store.speakings.values() if s.reference_id in calls)
        return ids

    def page(self, activeflow_id: str, page_size: int, page_token: str | None) -> tuple[list[TimelineRecord], str]:
        ids = self.ids_of(activeflow_id)
        limit = parse_time(page_token) if page_token else None
        if page_token and limit is None:
            return [], ""
        out: list[TimelineRecord] = []
        for record in reversed(self.records):
            if limit is not None and record.timestamp >= limit:
                continue
            if record.refs & ids:
                out.append(record)
                if len(out) == page_size:
                    break
        token = token_time(out[-1].timestamp) if out else ""
        return out, token
