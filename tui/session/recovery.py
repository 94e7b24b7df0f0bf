"""Backfill once: what an outage of the event channel hid, read back from REST.

VoIPBIN does not replay what a dropped WebSocket missed. :meth:`Recoverer.recover` is the one place that
reads it back; the call session and ``watch`` only apply what it returns (each already drops what it has
seen, by id and by call state). Where the server offers ``GET /aggregated-events`` it is read per call,
newest first, back to a little before the gap: one request per call instead of one per resource, and
every record carries its event type. Elsewhere (a 404 route, an older self-hosted server) it falls back to
reading each call, its transcribes and their transcripts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from tui.voipbin.errors import VoipbinError
from tui.voipbin.frames import classify_payload
from tui.voipbin.models import Call, Groupcall, Transcribe, Transcript, call_supersedes
from tui.voipbin.rest import VoipbinClient

log = logging.getLogger(__name__)

# Events stamped this long before the gap was noticed are read too: a silent drop is only seen after
# the ping timeout, and the two clocks may differ.
GAP_MARGIN_S = 30.0
MAX_PAGES = 10
PAGE_SIZE = 100

Via = Literal["aggregated-events", "per-resource"]


@dataclass
class Recovered:
    """The newest state of each resource read back, and every transcript (oldest first, each once)."""

    calls: dict[str, Call] = field(default_factory=dict)
    groupcalls: dict[str, Groupcall] = field(default_factory=dict)
    transcribes: dict[str, Transcribe] = field(default_factory=dict)
    transcripts: list[Transcript] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    via: Via = "per-resource"

    def add_call(self, call: Call) -> None:
        old = self.calls.get(call.id)
        if old is None or call_supersedes(call, old):
            self.calls[call.id] = call

    def add_transcript(self, transcript: Transcript, seen: set[str]) -> None:
        if transcript.id and transcript.id not in seen:
            seen.add(transcript.id)
            self.transcripts.append(transcript)


def _route_missing(exc: VoipbinError) -> bool:
    return exc.http_status in (404, 405, 501) and (exc.reason or "") not in ("CALL_NOT_FOUND",)


class Recoverer:
    """Remembers whether the server has ``/aggregated-events`` so a missing route costs one request."""

    def __init__(self, client: VoipbinClient, *, use_aggregated: bool = True) -> None:
        self.client = client
        self.aggregated: bool | None = None if use_aggregated else False

    async def recover(
        self,
        *,
        call_ids: Iterable[str],
        groupcall_ids: Iterable[str] = (),
        transcribe_ids: Iterable[str] = (),
        since: float,
        new_calls_since: float | None = None,
    ) -> Recovered:
        """What happened to these calls (and calls created after ``new_calls_since``) from ``since`` on."""
        out = Recovered()
        ids = list(dict.fromkeys(call_ids))
        if new_calls_since is not None:
            try:
                for call in await self._calls_since(new_calls_since):
                    out.add_call(call)
                    if call.id not in ids:
                        ids.append(call.id)
            except VoipbinError as exc:
                out.errors.append(str(exc))
        leftover = ids
        if self.aggregated is not False and ids:
            leftover = await self._via_aggregated(ids, since - GAP_MARGIN_S, out)
        if leftover or not ids:
            await self._via_resources(leftover, list(transcribe_ids), since, out)
        for gid in groupcall_ids:
            if gid not in out.groupcalls:
                await self._groupcall(gid, out)
        out.transcripts.sort(key=lambda t: t.tm_create.timestamp() if t.tm_create else 0.0)
        return out

    async def _via_aggregated(self, ids: list[str], since: float, out: Recovered) -> list[str]:
        """Read each call's timeline; returns the calls it could not read that way."""
        seen: set[str] = set()
        failed: list[str] = []
        for call_id in ids:
            try:
                await self._timeline(call_id, since, out, seen)
            except VoipbinError as exc:
                if exc.reason == "CALL_NOT_FOUND" or exc.http_status == 409:
                    continue  # a leg not created yet, or deleted: nothing to read
                if self.aggregated is None and _route_missing(exc):
                    log.info("no aggregated events on this server (%s); reading per resource", exc.http_status)
                    self.aggregated = False
                    return ids
                failed.append(call_id)
                continue
            self.aggregated = True
            out.via = "aggregated-events"
        return failed

    async def _timeline(self, call_id: str, since: float, out: Recovered, seen: set[str]) -> None:
        token: str | None = None
        for _ in range(MAX_PAGES):
            page = await self.client.list_aggregated_events(call_id=call_id, page_size=PAGE_SIZE, page_token=token)
            for record in page.result:
                if record.timestamp is not None and record.timestamp.timestamp() < since:
                    return
                event = classify_payload(record.data, declared=record.event_type or None)
                resource = event.resource
                if isinstance(resource, Call):
                    out.add_call(resource)
                elif isinstance(resource, Groupcall):
                    out.groupcalls.setdefault(resource.id, resource)  # newest first: keep the first
                elif isinstance(resource, Transcribe):
                    out.transcribes.setdefault(resource.id, resource)
                elif isinstance(resource, Transcript):
                    out.add_transcript(resource, seen)
            if len(page.result) < PAGE_SIZE or not page.next_page_token:
                return
            token = page.next_page_token

    async def _via_resources(
        self,
        call_ids: list[str],
        transcribe_ids: list[str],
        since: float,
        out: Recovered,
    ) -> None:
        client = self.client
        transcribes: dict[str, Transcribe | None] = dict.fromkeys(transcribe_ids)
        for call_id in call_ids:
            try:
                out.add_call(await client.get_call(call_id))
                page = await client.list_transcribes(reference_type="call", reference_id=call_id)
            except VoipbinError as exc:
                if exc.http_status not in (404, 409):
                    out.errors.append(str(exc))
                continue
            for tr in page.result:
                out.transcribes[tr.id] = tr
                transcribes[tr.id] = tr
        seen = {t.id for t in out.transcripts}
        for tid, known in transcribes.items():
            # A transcribe that ended before the gap cannot have produced anything during it.
            if (
                known is not None
                and known.status == "done"
                and known.tm_update is not None
                and known.tm_update.timestamp() < since
            ):
                continue
            try:
                transcripts = await client.list_transcripts(tid)
            except VoipbinError as exc:
                out.errors.append(str(exc))
                continue
            for item in transcripts:
                out.add_transcript(item, seen)

    async def _groupcall(self, groupcall_id: str, out: Recovered) -> None:
        try:
            out.groupcalls[groupcall_id] = await self.client.get_groupcall(groupcall_id)
        except VoipbinError as exc:
            if exc.http_status not in (404, 409):
                out.errors.append(str(exc))

    async def _calls_since(self, since: float) -> list[Call]:
        """Calls created after ``since`` (wall time), paging GET /calls back until older ones show."""
        found: list[Call] = []
        token: str | None = None
        for _ in range(MAX_PAGES):
            page = await self.client.list_calls(page_size=PAGE_SIZE, page_token=token)
            for call in page.result:
                if call.tm_create is not None and call.tm_create.timestamp() < since:
                    return found
                found.append(call)
            if len(page.result) < PAGE_SIZE or not page.next_page_token:
                return found
            token = page.next_page_token
        return found
