"""Finding the call's transcribe and keeping its transcript (finals, interim speech, say matching).

The transcribe is started by the call's flow, not by us: it is known from an event, or found over REST
when no event names it in time. Transcripts are applied once per id (the book ignores repeats), so the
same transcript may come from an event, a replay of recent events or a backfill.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tui.session.legs import timestamp
from tui.session.updates import Notice, SayUpdated, TranscribeUpdated
from tui.voipbin.errors import VoipbinError
from tui.voipbin.models import SpeechEvent, Transcribe, Transcript

if TYPE_CHECKING:
    from tui.session.call_session import CallSession

log = logging.getLogger(__name__)

# How long to wait for an event naming the transcribe before asking REST.
TRANSCRIBE_GRACE_S = 2.0


class TranscriptionTracker:
    """Applies transcribe, transcript and speech updates to the session's ``transcribes`` and ``book``,
    looks the transcribe up when no event brings it, and watches for transcription going quiet."""

    def __init__(self, session: CallSession) -> None:
        self.session = session
        self._search: asyncio.Task[None] | None = None

    # -- finding the transcribe ---------------------------------------------------------------------------

    def look_for_transcribe(self, call_id: str) -> None:
        if self._search is None or self._search.done():
            self._search = self.session.spawn(self._search_transcribe(call_id), "find-transcribe")

    async def _search_transcribe(self, call_id: str) -> None:
        s = self.session
        delay = TRANSCRIBE_GRACE_S
        for _ in range(4):
            await asyncio.sleep(delay)
            if any(t.reference_id == call_id for t in s.transcribes.values()) or not s.is_live:
                return
            await self.load_transcribes([call_id], backfilled=False)
            delay *= 2

    async def load_transcribes(self, call_ids: Iterable[str], *, backfilled: bool) -> dict[str, int]:
        s = self.session
        counts = {"transcribes": 0, "transcripts": 0}
        for cid in call_ids:
            try:
                page = await s.client.list_transcribes(reference_type="call", reference_id=cid)
            except VoipbinError as exc:
                log.info("transcribe lookup failed: %s", exc)
                continue
            for tr in page.result:
                if tr.id not in s.transcribes:
                    counts["transcribes"] += 1
                self.apply_transcribe(tr)
        for tid in list(s.transcribes):
            try:
                transcripts = await s.client.list_transcripts(tid)
            except VoipbinError as exc:
                log.info("transcript backfill failed: %s", exc)
                continue
            now = time.monotonic()
            for item in sorted(transcripts, key=lambda t: timestamp(t.tm_create)):
                if self.apply_transcript(item, arrived_mono=now, backfilled=backfilled):
                    counts["transcripts"] += 1
        return counts

    # -- transcription that went quiet --------------------------------------------------------------------

    def heard(self) -> None:
        s = self.session
        if s.stall.heard():
            s.emit(Notice("info", "transcription is producing results again"))

    async def watch_stall(self) -> None:
        s = self.session
        interval = max(0.05, min(5.0, s.stall.quiet_after / 4))
        while s.is_live:
            await asyncio.sleep(interval)
            live = [t for t in s.transcribes.values() if t.status == "progressing" and t.tm_delete is None]
            if not live:
                continue
            newest = max(live, key=lambda t: timestamp(t.tm_create))
            age = None if newest.tm_create is None else (datetime.now(UTC) - newest.tm_create).total_seconds()
            warning = s.stall.check(time.monotonic(), progressing=True, stream_age=age, provider=newest.provider)
            if warning is not None:
                s.record("transcription_quiet", text=warning.text, likely_limit=warning.likely_limit, flush=True)
                s.patch(s.book.add_line(key=f"q:{time.monotonic()}", kind="note", text=f"⚠ {warning.text}"))
                s.emit(Notice("warning", warning.text, hint=warning.hint))

    # -- applying state -----------------------------------------------------------------------------------

    def apply_transcribe(self, tr: Transcribe) -> None:
        s = self.session
        prev = s.transcribes.get(tr.id)
        if prev is not None and prev.status == "done" and tr.status != "done" and tr.tm_delete is None:
            return
        new = prev is None
        s.transcribes[tr.id] = tr
        if new:
            s.claim(tr.id)
        s.record("transcribe", id=tr.id, status=tr.status, reference_id=tr.reference_id)
        s.emit(TranscribeUpdated(tr))
        if new:
            # Transcripts may have arrived before the transcribe that owns them. Interim text is not
            # replayed: it is stale by now and would linger until the next final.
            s.catch_up(
                s.started_at - 1.0,
                lambda e: e.transcript is not None and e.transcript.transcribe_id == tr.id,
                ids=(tr.id,),
            )
        if tr.status == "done":
            s.patch(s.book.clear_all_interim())
            if s.phase == "ended":
                s.ending.publish_summary()

    def apply_transcript(self, tr: Transcript, *, arrived_mono: float, backfilled: bool = False) -> bool:
        s = self.session
        at = tr.tm_create or datetime.now(UTC)
        changes = s.book.add_transcript(
            transcript_id=tr.id,
            transcribe_id=tr.transcribe_id,
            direction=tr.direction,
            text=tr.message,
            at=at,
            offset=tr.offset_seconds,
            backfilled=backfilled,
        )
        if not changes:
            return False
        s.record(
            "transcript",
            id=tr.id,
            transcribe_id=tr.transcribe_id,
            direction=tr.direction,
            message=tr.message,
            tm_create=tr.tm_create,
            offset=tr.offset_seconds,
            backfilled=backfilled,
        )
        if tr.direction == "out":
            item = s.ledger.match_transcript(tr.id, tr.message, arrived_mono)
            if item is not None:
                line = s.book.get("t:" + tr.id)
                if line is not None:
                    line.meta["say_id"] = item.id
                s.record(
                    "say", id=item.id, state=item.state, latency_ms=item.latency_ms, coverage=round(item.coverage, 3)
                )
                s.emit(SayUpdated(item))
        s.patch(changes)
        if s.phase == "ended":
            s.ending.publish_summary()
        return True

    def apply_speech(self, speech: SpeechEvent, name: str) -> None:
        s = self.session
        at = speech.tm_event or speech.tm_create or datetime.now(UTC)
        if speech.message:
            s.patch(
                s.book.set_interim(
                    transcribe_id=speech.transcribe_id,
                    direction=speech.direction,
                    text=speech.message,
                    at=at,
                )
            )
        elif name.endswith("_started"):
            s.patch(
                s.book.set_interim(
                    transcribe_id=speech.transcribe_id,
                    direction=speech.direction,
                    text="…",
                    at=at,
                )
            )
