"""Pydantic models of the VoIPBIN resources the console touches.

Tolerance rules (README §3.1 and NOTES §A):

* unknown fields are kept (``extra="allow"``; read them with ``model.model_extra``);
* enum-like fields are plain ``str``: known values are listed in the ``*Status``
  style constant classes below, unknown values pass through unchanged;
* ``null`` or an absent key becomes ``""`` for strings, ``[]`` for lists and
  ``None`` for times and objects;
* ids stay strings; the zero UUID means "unset": test with :func:`is_nil`;
* times are aware UTC ``datetime`` or ``None`` (``""``, ``null``, the
  ``9999-01-01`` sentinel and unreadable strings all give ``None``);
* the docs/seed shapes (``"voice_id": ""``, ``"pod_id": ""``, ``"tm_update": ""``)
  validate like the real ones.

Secrets that the API returns in plain text (an extension's SIP ``password``,
the customer's ``webhook_secret``) are held as ``SecretStr``.

Treat model instances as immutable values; use ``model_copy(update=…)``.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Generic, TypeVar

from pydantic import BeforeValidator, Field, SecretStr

from tui.voipbin.account_models import Customer, Extension, Number
from tui.voipbin.enums import (
    ActionType as ActionType,
)
from tui.voipbin.enums import (
    AddressType as AddressType,
)
from tui.voipbin.enums import (
    CallDirection as CallDirection,
)
from tui.voipbin.enums import (
    CallStatus as CallStatus,
)
from tui.voipbin.enums import (
    GroupcallStatus as GroupcallStatus,
)
from tui.voipbin.enums import (
    SpeakingDirection as SpeakingDirection,
)
from tui.voipbin.enums import (
    SpeakingStatus as SpeakingStatus,
)
from tui.voipbin.enums import (
    TranscribeDirection as TranscribeDirection,
)
from tui.voipbin.enums import (
    TranscribeStatus as TranscribeStatus,
)
from tui.voipbin.enums import (
    TranscriptDirection as TranscriptDirection,
)
from tui.voipbin.flow_actions import (
    hangup_action as hangup_action,
)
from tui.voipbin.flow_actions import (
    sleep_action as sleep_action,
)
from tui.voipbin.flow_actions import (
    talk_action as talk_action,
)
from tui.voipbin.flow_actions import (
    transcribe_start_action as transcribe_start_action,
)
from tui.voipbin.model_types import (
    NIL_UUID,
    IdList,
    Int,
    Millis,
    Str,
    Time,
    VoipbinModel,
    is_nil,
    none_to_empty_list,
)
from tui.voipbin.timeparse import offset_seconds

_T = TypeVar("_T")

__all__ = [
    "CALL_STATUS_RANK",
    "NIL_UUID",
    "Action",
    "ActionType",
    "Address",
    "AddressType",
    "Call",
    "CallCreateResult",
    "CallDirection",
    "CallStatus",
    "Customer",
    "ErrorBody",
    "ErrorEnvelope",
    "Extension",
    "Groupcall",
    "GroupcallStatus",
    "LoginResponse",
    "Number",
    "Page",
    "Speaking",
    "SpeakingDirection",
    "SpeakingStatus",
    "SpeechEvent",
    "Transcribe",
    "TranscribeDirection",
    "TranscribeStatus",
    "Transcript",
    "TranscriptDirection",
    "VoipbinModel",
    "call_status_rank",
    "call_supersedes",
    "hangup_action",
    "is_nil",
    "prepare_models",
    "sleep_action",
    "talk_action",
    "transcribe_start_action",
]

CALL_STATUS_RANK: Final[dict[str, int]] = {
    "dialing": 0,
    "ringing": 1,
    "progressing": 2,
    "terminating": 3,
    "canceling": 3,
    "hangup": 4,
}


def call_status_rank(status: str | None) -> int:
    """Rank of a call status for ordering updates (dialing 0 … hangup 4); ``-1`` when unknown.

    Delivery is unordered: keep the update with the higher rank (ties: the later
    ``tm_update``), never the later arrival.
    """
    if status is None:
        return -1
    return CALL_STATUS_RANK.get(status, -1)


def call_supersedes(new: Call, old: Call) -> bool:
    """Whether ``new`` is a later state of the same call than ``old``: status rank first, then
    ``tm_delete``, then ``tm_update``. Delivery is unordered, so arrival order means nothing."""
    if new.rank != old.rank:
        return new.rank > old.rank
    if old.status == CallStatus.HANGUP and new.status != CallStatus.HANGUP:
        return False
    if new.tm_delete is not None and old.tm_delete is None:
        return True
    new_t, old_t = new.tm_update, old.tm_update
    if new_t is not None and old_t is not None:
        return new_t > old_t
    return new_t is not None and old_t is None


# --------------------------------------------------------------------------- shared parts


class Address(VoipbinModel):
    """A call source or destination (``tel``, ``sip``, ``extension`` …)."""

    type: Str = ""
    target: Str = ""
    target_name: Str = ""
    name: Str = ""
    detail: Str = ""

    @classmethod
    def tel(cls, number: str) -> Address:
        return cls(type="tel", target=number)

    @classmethod
    def sip(cls, uri: str) -> Address:
        return cls(type="sip", target=uri)

    @classmethod
    def extension(cls, extension: str) -> Address:
        """Dial an extension by its ``extension`` field (the SIP username), not its display name."""
        return cls(type="extension", target_name=extension)

    def to_request(self) -> dict[str, Any]:
        """The JSON for a request body: empty fields left out (as the server does)."""
        out: dict[str, Any] = {k: v for k, v in self.model_dump(exclude_none=True).items() if v != ""}
        return out

    def display(self) -> str:
        """Short human form, e.g. ``tel:+15551234567`` or ``extension:2000``."""
        value = self.target or self.target_name or self.name
        if not self.type or value.lower().startswith(self.type.lower() + ":"):
            # A SIP contact target already carries its scheme ("sip:user@host").
            return value
        return f"{self.type}:{value}"


class Action(VoipbinModel):
    """A flow action (the call's current ``action`` or an item of ``POST /calls`` ``actions``)."""

    id: Str = ""
    next_id: Str = ""
    type: Str = ""
    option: dict[str, Any] | None = None
    tm_execute: Time = None


# --------------------------------------------------------------------------- resources


class Call(VoipbinModel):
    """A call leg (``GET /calls/{id}`` and the ``call_*`` events)."""

    id: Str = ""
    customer_id: Str = ""
    owner_type: Str = ""
    owner_id: Str = ""
    flow_id: Str = ""
    activeflow_id: Str = ""
    type: Str = ""
    master_call_id: Str = ""
    chained_call_ids: IdList = Field(default_factory=list)
    recording_id: Str = ""
    recording_ids: IdList = Field(default_factory=list)
    groupcall_id: Str = ""
    source: Address | None = None
    destination: Address | None = None
    status: Str = ""
    action: Action | None = None
    direction: Str = ""
    mute_direction: Str = ""
    hangup_by: Str = ""
    hangup_reason: Str = ""
    metadata: dict[str, Any] | None = None
    tm_progressing: Time = None
    tm_ringing: Time = None
    tm_hangup: Time = None
    tm_create: Time = None
    tm_update: Time = None
    tm_delete: Time = None

    @property
    def rank(self) -> int:
        return call_status_rank(self.status)

    @property
    def is_hungup(self) -> bool:
        return self.status == CallStatus.HANGUP

    @property
    def is_deleted(self) -> bool:
        return self.tm_delete is not None

    @property
    def action_type(self) -> str:
        return self.action.type if self.action is not None else ""


class Groupcall(VoipbinModel):
    """A groupcall (one per ``extension``/``agent`` destination of ``POST /calls``)."""

    id: Str = ""
    customer_id: Str = ""
    owner_type: Str = ""
    owner_id: Str = ""
    status: Str = ""
    flow_id: Str = ""
    source: Address | None = None
    destinations: Annotated[list[Address], BeforeValidator(none_to_empty_list)] = Field(default_factory=list)
    master_call_id: Str = ""
    master_groupcall_id: Str = ""
    ring_method: Str = ""
    answer_method: Str = ""
    answer_call_id: Str = ""
    call_ids: IdList = Field(default_factory=list)
    answer_groupcall_id: Str = ""
    groupcall_ids: IdList = Field(default_factory=list)
    call_count: Int = 0
    groupcall_count: Int = 0
    dial_index: int | None = None
    tm_create: Time = None
    tm_update: Time = None
    tm_delete: Time = None

    @property
    def answered_call_id(self) -> str | None:
        """The leg that answered, or ``None`` while unanswered (zero UUID)."""
        return None if is_nil(self.answer_call_id) else self.answer_call_id


class Speaking(VoipbinModel):
    """A streaming TTS session (``/speakings``). No events exist for it: poll ``GET /speakings/{id}``."""

    id: Str = ""
    customer_id: Str = ""
    reference_type: Str = ""
    reference_id: Str = ""
    language: Str = ""
    provider: Str = ""
    voice_id: Str = ""
    direction: Str = ""
    status: Str = ""
    pod_id: Str = ""
    tm_create: Time = None
    tm_update: Time = None
    tm_delete: Time = None

    @property
    def is_active(self) -> bool:
        return self.status == SpeakingStatus.ACTIVE


class Transcribe(VoipbinModel):
    """A live transcription session."""

    id: Str = ""
    customer_id: Str = ""
    activeflow_id: Str = ""
    on_end_flow_id: Str = ""
    reference_type: Str = ""
    reference_id: Str = ""
    status: Str = ""
    language: Str = ""
    direction: Str = ""
    provider: Str = ""
    tm_create: Time = None
    tm_update: Time = None
    tm_delete: Time = None


class Transcript(VoipbinModel):
    """One final transcription result (``transcript_created``)."""

    id: Str = ""
    customer_id: Str = ""
    transcribe_id: Str = ""
    direction: Str = ""
    message: Str = ""
    tm_transcript: Time = None
    # Newer official clients key transcripts on this; the server code read emits tm_transcript only.
    offset_ms: Millis = None
    tm_create: Time = None
    tm_delete: Time = None

    @property
    def offset_seconds(self) -> float | None:
        """Seconds since this direction's stream started: ``tm_transcript`` if it is an offset, else
        ``offset_ms``."""
        from_time = offset_seconds(self.tm_transcript)
        if from_time is not None:
            return from_time
        return None if self.offset_ms is None else self.offset_ms / 1000.0


class SpeechEvent(VoipbinModel):
    """Payload of ``transcribe_speech_started|interim|ended`` (voice activity, partial text).

    ``message`` is ``None`` when absent (started/ended) and the partial text for interim results.
    """

    id: Str = ""
    customer_id: Str = ""
    streaming_id: Str = ""
    transcribe_id: Str = ""
    direction: Str = ""
    message: str | None = None
    tm_event: Time = None
    tm_create: Time = None

    @property
    def is_interim(self) -> bool:
        return bool(self.message)


class ErrorBody(VoipbinModel):
    """The ``error`` object of the JSON error envelope."""

    status: Str = ""
    reason: Str = ""
    message: Str = ""
    request_id: Str = ""
    details: Annotated[list[dict[str, Any]], BeforeValidator(none_to_empty_list)] = Field(default_factory=list)


class ErrorEnvelope(VoipbinModel):
    error: ErrorBody


class LoginResponse(VoipbinModel):
    username: Str = ""
    token: SecretStr


class Page(VoipbinModel, Generic[_T]):
    """One page of a list endpoint. Stop paging when ``result`` is empty or short."""

    result: Annotated[list[_T], BeforeValidator(none_to_empty_list)] = Field(default_factory=list)
    next_page_token: Str = ""


class AggregatedEvent(VoipbinModel):
    """One record of ``GET /aggregated-events``: an event with the type bare WebSocket frames lack."""

    timestamp: Time = None
    event_type: Str = ""
    data: Annotated[dict[str, Any], BeforeValidator(lambda v: v if isinstance(v, dict) else {})] = Field(
        default_factory=dict
    )


class CallCreateResult(VoipbinModel):
    """Response of ``POST /calls``: ``tel``/``sip`` legs in ``calls``, extension/agent in ``groupcalls``."""

    calls: Annotated[list[Call], BeforeValidator(none_to_empty_list)] = Field(default_factory=list)
    groupcalls: Annotated[list[Groupcall], BeforeValidator(none_to_empty_list)] = Field(default_factory=list)

    @property
    def call_ids(self) -> list[str]:
        """Every leg id known so far: direct calls plus the groupcalls' pre-assigned ``call_ids``."""
        ids = [c.id for c in self.calls if not is_nil(c.id)]
        for gc in self.groupcalls:
            ids.extend(cid for cid in gc.call_ids if not is_nil(cid) and cid not in ids)
        return ids


_PREPARED = False


def prepare_models() -> None:
    """Build every model's validator now (about 50 ms) instead of on first use.

    :class:`~tui.voipbin.stream.EventStream` calls this before it first connects,
    so the first frame is not slowed down by it. Idempotent.
    """
    global _PREPARED
    if _PREPARED:
        return
    for model in (
        Address,
        Action,
        Call,
        Groupcall,
        Speaking,
        Transcribe,
        Transcript,
        SpeechEvent,
        Number,
        Extension,
        Customer,
        ErrorBody,
        ErrorEnvelope,
        LoginResponse,
        CallCreateResult,
        Page[Call],
        Page[Number],
        Page[Extension],
        Page[Speaking],
        Page[Transcribe],
        Page[Transcript],
    ):
        model.model_rebuild()
    _PREPARED = True
