"""Typed events from the WebSocket, and connection-state reports.

Every frame becomes exactly one :class:`Event` (see :func:`tui.voipbin.frames.classify_frame`).
Dispatch on the class (``isinstance(ev, CallEvent)``, ``match``) or on ``ev.kind``; the
typed accessor (``ev.call``, ``ev.transcript`` …) returns the parsed model.

Kinds: ``call``, ``groupcall``, ``transcribe``, ``transcript``, ``speech``,
``activeflow``, ``unrecognised``. Shapes: ``bare`` (the real server: the resource
JSON itself), ``wrapped`` (``{"type", "data"}``), ``documented``
(``{"event_type", "timestamp", "topic", "data"}``), ``invalid`` (not a JSON object).

This module imports nothing heavy; it is safe for the UI layer to import early.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal, cast

if TYPE_CHECKING:
    from tui.voipbin.models import Call, Groupcall, SpeechEvent, Transcribe, Transcript, VoipbinModel

__all__ = [
    "EVENT_KINDS",
    "FRAME_SHAPES",
    "ActiveflowEvent",
    "CallEvent",
    "ConnectionState",
    "Event",
    "EventKind",
    "FrameShape",
    "GroupcallEvent",
    "SpeechActivityEvent",
    "StateName",
    "TranscribeEvent",
    "TranscriptEvent",
    "UnrecognisedEvent",
]

EventKind = Literal["call", "groupcall", "transcribe", "transcript", "speech", "activeflow", "unrecognised"]
FrameShape = Literal["bare", "wrapped", "documented", "invalid"]
StateName = Literal["connecting", "connected", "reconnecting", "reconnected", "closed"]

EVENT_KINDS: Final[frozenset[str]] = frozenset(
    {"call", "groupcall", "transcribe", "transcript", "speech", "activeflow", "unrecognised"}
)
FRAME_SHAPES: Final[frozenset[str]] = frozenset({"bare", "wrapped", "documented", "invalid"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One received frame, classified.

    ``event`` is the event name: taken from the envelope when the frame has one,
    otherwise inferred from the payload (``inferred=True``) and possibly refined
    by :class:`tui.voipbin.dedupe.EventNamer` (``call_updated``,
    ``transcribe_speech_ended``). ``raw`` is the frame text as received, cut at
    :data:`tui.voipbin.frames.RAW_CAP` characters (``truncated=True`` then);
    ``size`` is the full frame length in bytes.
    """

    kind: EventKind
    event: str
    id: str | None
    shape: FrameShape
    raw: str
    data: dict[str, Any]
    resource: VoipbinModel | None = None
    received_at: float = field(default_factory=time.time)
    received_mono: float = field(default_factory=time.monotonic)
    duplicate: bool = False
    topic: str | None = None
    reason: str | None = None
    inferred: bool = True
    declared_event: str | None = None
    timestamp: str | None = None
    truncated: bool = False
    size: int = 0

    @property
    def recognised(self) -> bool:
        return self.kind != "unrecognised"

    # Typed accessors: the resource when the kind matches, else None.
    @property
    def call(self) -> Call | None:
        return None

    @property
    def groupcall(self) -> Groupcall | None:
        return None

    @property
    def transcribe(self) -> Transcribe | None:
        return None

    @property
    def transcript(self) -> Transcript | None:
        return None

    @property
    def speech(self) -> SpeechEvent | None:
        return None

    def summary(self) -> str:
        """One short line for an event log (no secrets: frames carry none we send)."""
        flag = " (dup)" if self.duplicate else ""
        ident = f" {self.id}" if self.id else ""
        why = f" — {self.reason}" if self.reason else ""
        return f"{self.event}{ident}{flag}{why}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEvent(Event):
    """``call_created|ringing|progressing|updated|terminating|canceling|hangup|deleted``."""

    @property
    def call(self) -> Call:
        return cast("Call", self.resource)


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupcallEvent(Event):
    """``groupcall_created|progressing|hangup|deleted``."""

    @property
    def groupcall(self) -> Groupcall:
        return cast("Groupcall", self.resource)


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscribeEvent(Event):
    """``transcribe_created|done`` (``transcribe_speech_*`` are :class:`SpeechActivityEvent`)."""

    @property
    def transcribe(self) -> Transcribe:
        return cast("Transcribe", self.resource)


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptEvent(Event):
    """``transcript_created``: one final transcription result."""

    @property
    def transcript(self) -> Transcript:
        return cast("Transcript", self.resource)


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeechActivityEvent(Event):
    """``transcribe_speech_started|interim|ended`` (voice activity and partial text)."""

    @property
    def speech(self) -> SpeechEvent:
        return cast("SpeechEvent", self.resource)


@dataclass(frozen=True, slots=True, kw_only=True)
class ActiveflowEvent(Event):
    """``activeflow_*`` (only on broad subscriptions); ``resource`` is ``None``, read ``data``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UnrecognisedEvent(Event):
    """A frame we could not classify; ``reason`` says why. Kept for the raw event log."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionState:
    """A change of the event stream's connection.

    * ``connecting`` — first attempt (``attempt`` = 1);
    * ``connected`` — socket open and subscriptions sent (the server sends no ack);
    * ``reconnecting`` — the socket dropped or an attempt failed; the next attempt
      (``attempt``) starts after ``delay`` seconds; ``error`` says why (redacted);
      ``unauthorized`` when the credential was refused (and is being retried);
    * ``reconnected`` — open again and resubscribed; ``gap_started``/``gap_ended``
      are the wall times of the outage (events in between were not delivered:
      backfill from REST);
    * ``closed`` — final: :meth:`EventStream.close` was called, or an
      authentication failure that cannot be fixed by logging in (``error``).
    """

    state: StateName
    attempt: int = 0
    delay: float | None = None
    error: str | None = None
    gap_started: float | None = None
    gap_ended: float | None = None
    at: float = field(default_factory=time.time)
    fatal: bool = False
    # ``reconnecting`` because the credential was refused (retried while it may come back).
    unauthorized: bool = False

    def summary(self) -> str:
        parts: list[str] = [self.state]
        if self.unauthorized:
            parts = ["unauthorized,", "retrying" if self.state == "reconnecting" else self.state]
        if self.attempt and self.state in ("connecting", "reconnecting"):
            parts.append(f"attempt {self.attempt}")
        if self.delay is not None:
            parts.append(f"in {self.delay:.1f}s")
        if self.gap_started is not None and self.gap_ended is not None:
            parts.append(f"after a {self.gap_ended - self.gap_started:.1f}s gap")
        if self.error:
            parts.append(f"({self.error})")
        return " ".join(parts)
