"""Lines typed for the Speaking API: their state, and matching them to the `out` transcripts they cause.

VoIPBIN says nothing about playback (no speaking events, /say answers before anything is heard), so
the only evidence that a line was spoken is an `out` transcript with similar text arriving afterwards.
When that never comes (the real server may not transcribe Speaking audio) a line stays `sent`.
"""

from __future__ import annotations

import itertools
import re
import time
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Literal

SayState = Literal["queued", "sending", "sent", "heard", "flushed", "failed"]

# A transcript counts as hearing a line when this share of its characters lines up with the line's text…
MATCH_THRESHOLD = 0.6
# …and the overlap is long enough not to be a coincidence: a one-word greeting transcript ("Hello.")
# must not be taken for a said line that starts with the same word.
MIN_OVERLAP_CHARS = 16
MIN_OVERLAP_SHARE = 0.75
# A rough speaking rate for TTS (about 14 characters a second) and its start-up, to guess when a line's
# audio is over; generous on purpose, so a flush never leaves a still-playing line marked as sent.
SPEECH_S_PER_CHAR = 0.07
FIRST_AUDIO_S = 0.5
PLAYBACK_MARGIN_S = 2.0
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(slots=True, eq=False)
class SayItem:
    id: str
    text: str
    part: int = 1
    parts: int = 1
    group: str = ""
    state: SayState = "queued"
    created_at: float = field(default_factory=time.time)
    sent_mono: float | None = None
    # When its /say request went out (``sent_mono`` is only set once the answer is back).
    posted_mono: float | None = None
    sent_at: float | None = None
    heard_mono: float | None = None
    error: str | None = None
    hint: str | None = None
    request_id: str | None = None
    speaking_id: str | None = None
    # How much of the text the matched transcripts covered, 0..1.
    coverage: float = 0.0
    heard_transcripts: list[str] = field(default_factory=list)

    @property
    def latency_ms(self) -> float | None:
        if self.sent_mono is None or self.heard_mono is None:
            return None
        return (self.heard_mono - self.sent_mono) * 1000.0

    @property
    def recoverable(self) -> bool:
        """A line the user may want to send again."""
        return self.state in ("failed", "flushed")

    @property
    def label(self) -> str:
        suffix = f" ({self.part}/{self.parts})" if self.parts > 1 else ""
        return self.state + suffix


def normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NON_WORD.sub(" ", folded).strip()


@dataclass(frozen=True, slots=True)
class SayTally:
    total: int
    queued: int
    sent: int
    heard: int
    failed: int


class SayLedger:
    """All lines of one session, oldest first."""

    def __init__(self) -> None:
        self.items: list[SayItem] = []
        self._ids = itertools.count(1)
        self._groups = itertools.count(1)
        self._cut_at = 0.0

    def add(self, parts: list[str]) -> list[SayItem]:
        group = f"g{next(self._groups)}"
        items = [
            SayItem(id=f"say-{next(self._ids)}", text=p, part=i, parts=len(parts), group=group)
            for i, p in enumerate(parts, 1)
        ]
        self.items.extend(items)
        return items

    def get(self, item_id: str) -> SayItem | None:
        return next((i for i in self.items if i.id == item_id), None)

    def maybe_playing(self, now: float) -> list[SayItem]:
        """Sent lines whose audio may still be playing or waiting its turn at ``now`` (what flush cuts).

        VoIPBIN says nothing about playback, and it may never transcribe Speaking audio, so "not heard"
        cannot mean "not played". Lines play one after another from when they were sent, each for about
        as long as its words take to say; a line is counted until that estimate (plus a margin) is over.
        The estimate restarts at the previous cut: what a flush or stop cut is not playing any more.
        """
        out: list[SayItem] = []
        busy_until = self._cut_at
        for item in self.items:
            if item.sent_mono is None or item.sent_mono < self._cut_at:
                continue
            start = max(item.sent_mono + FIRST_AUDIO_S, busy_until)
            busy_until = start + len(item.text) * SPEECH_S_PER_CHAR
            unfinished = item.state == "sent" or (item.state == "heard" and item.coverage < 0.9)
            if unfinished and busy_until + PLAYBACK_MARGIN_S > now:
                out.append(item)
        self._cut_at = now
        return out

    def last_recoverable(self) -> SayItem | None:
        return next((i for i in reversed(self.items) if i.recoverable), None)

    def match_transcript(self, transcript_id: str, text: str, arrived_mono: float) -> SayItem | None:
        """Attribute an `out` transcript to the oldest line sent before it that it resembles."""
        said = normalise(text)
        if not said:
            return None
        for item in self.items:
            # A line still ``sending`` counts too: its request is written, and under load the transcript
            # of its audio can be read before the answer to /say is (it stays unmatched otherwise).
            since = item.sent_mono if item.sent_mono is not None else item.posted_mono
            if item.state not in ("sending", "sent", "heard") or since is None:
                continue
            if since > arrived_mono or item.coverage >= 0.999:
                continue
            target = normalise(item.text)
            if not target:
                continue
            matched = sum(b.size for b in SequenceMatcher(None, said, target, autojunk=False).get_matching_blocks())
            if matched / len(said) < MATCH_THRESHOLD:
                continue
            if matched < MIN_OVERLAP_SHARE * min(len(target), MIN_OVERLAP_CHARS):
                continue
            item.coverage = min(1.0, item.coverage + matched / len(target))
            item.heard_transcripts.append(transcript_id)
            if item.heard_mono is None:
                item.heard_mono = arrived_mono
            # A line heard while ``sending`` becomes ``heard`` once its answer is back (see SpeakingStream).
            if item.state == "sent":
                item.state = "heard"
            return item
        return None

    def tally(self) -> SayTally:
        """The counts the status line and the summary both show, by one rule: a line once heard stays
        heard (a flush after it was heard does not take that back)."""
        items = self.items
        return SayTally(
            total=len(items),
            queued=sum(1 for i in items if i.state in ("queued", "sending")),
            sent=sum(1 for i in items if i.sent_mono is not None),
            heard=sum(1 for i in items if i.heard_mono is not None),
            failed=sum(1 for i in items if i.state == "failed"),
        )

    def latencies_ms(self) -> list[float]:
        return [lat for i in self.items if (lat := i.latency_ms) is not None]


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100.0 * len(ordered) + 0.4999)))
    return ordered[rank - 1]
