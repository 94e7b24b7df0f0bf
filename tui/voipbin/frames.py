"""Turn one WebSocket frame, whatever its shape, into one typed :class:`~tui.voipbin.events.Event`.

Three shapes exist (README §6.5, NOTES §A1):

``bare``        the real server: the resource JSON itself, no event name;
``wrapped``     ``{"type": "<event>", "data": {…}}`` (legacy WS path, webhooks);
``documented``  ``{"event_type": "<event>", "timestamp": …, "topic": …, "data": {…}}`` (the docs).

An envelope's event name is used as given, after checking that the payload
agrees with it (a ``call_*`` name over a transcript-shaped payload is refused).
A bare payload is classified by its keys (README §6.5 table) and named from its
status; names a bare frame cannot carry (``call_updated``, speech started vs
ended) are refined later by :class:`tui.voipbin.dedupe.EventNamer`.

:func:`classify_frame` never raises: non-JSON, non-objects, wrong types, huge or
deeply nested input, invalid UTF-8 all become an :class:`UnrecognisedEvent`
with a ``reason``. Each frame is parsed once and validated against one model.
"""

from __future__ import annotations

import json
import time
from typing import Any, Final

from pydantic import ValidationError

from tui.voipbin.events import (
    ActiveflowEvent,
    CallEvent,
    Event,
    EventKind,
    FrameShape,
    GroupcallEvent,
    SpeechActivityEvent,
    TranscribeEvent,
    TranscriptEvent,
    UnrecognisedEvent,
)
from tui.voipbin.models import (
    Call,
    CallDirection,
    CallStatus,
    Groupcall,
    SpeechEvent,
    Transcribe,
    TranscribeStatus,
    Transcript,
    VoipbinModel,
    is_nil,
)

__all__ = [
    "MAX_PARSE_CHARS",
    "RAW_CAP",
    "classify_frame",
    "classify_payload",
    "event_kind_for_name",
    "infer_kind",
]

#: ``Event.raw`` keeps at most this many characters of a frame.
RAW_CAP: Final = 64 * 1024
#: Frames longer than this are not parsed at all (the server's frames are a few KiB).
MAX_PARSE_CHARS: Final = 4 * 1024 * 1024
_MAX_NAME = 120

_EVENT_CLASS: Final[dict[str, type[Event]]] = {
    "call": CallEvent,
    "groupcall": GroupcallEvent,
    "transcribe": TranscribeEvent,
    "transcript": TranscriptEvent,
    "speech": SpeechActivityEvent,
    "activeflow": ActiveflowEvent,
}
_MODEL: Final[dict[str, type[VoipbinModel]]] = {
    "call": Call,
    "groupcall": Groupcall,
    "transcribe": Transcribe,
    "transcript": Transcript,
    "speech": SpeechEvent,
}
_CALL_EVENT_BY_STATUS: Final[dict[str, str]] = {
    CallStatus.DIALING: "call_created",
    CallStatus.RINGING: "call_ringing",
    CallStatus.PROGRESSING: "call_progressing",
    CallStatus.TERMINATING: "call_terminating",
    CallStatus.CANCELING: "call_canceling",
    CallStatus.HANGUP: "call_hangup",
}
_ACTIVEFLOW_KEYS: Final = (
    "current_action",
    "forward_action_id",
    "stack_map",
    "executed_actions",
    "current_stack_id",
)


def event_kind_for_name(name: str) -> EventKind | None:
    """The event kind an event-type name belongs to (``transcribe_speech_*`` → ``speech``), or ``None``."""
    if name.startswith("transcribe_speech_"):
        return "speech"
    prefix = name.split("_", 1)[0]
    if prefix == "call":
        return "call"
    if prefix == "groupcall":
        return "groupcall"
    if prefix == "transcribe":
        return "transcribe"
    if prefix == "transcript":
        return "transcript"
    if prefix == "activeflow":
        return "activeflow"
    return None


def infer_kind(payload: dict[str, Any]) -> EventKind | None:
    """Which resource a bare payload is, from its keys (README §6.5); ``None`` when none fits."""
    if "streaming_id" in payload and ("transcribe_id" in payload or "tm_event" in payload):
        return "speech"
    if "transcribe_id" in payload and ("message" in payload or "tm_transcript" in payload or "offset_ms" in payload):
        return "transcript"
    if "ring_method" in payload or "call_ids" in payload or "answer_call_id" in payload:
        return "groupcall"
    status = payload.get("status")
    if "reference_type" in payload and "language" in payload and status in TranscribeStatus.KNOWN:
        return "transcribe"
    direction = payload.get("direction")
    if (
        direction in CallDirection.KNOWN
        and isinstance(status, str)
        and (status in CallStatus.KNOWN or "destination" in payload or "source" in payload)
    ):
        return "call"
    if any(key in payload for key in _ACTIVEFLOW_KEYS):
        return "activeflow"
    return None


def _name_from_resource(kind: str, resource: VoipbinModel | None, payload: dict[str, Any]) -> str:
    if isinstance(resource, Call):
        if resource.tm_delete is not None:
            return "call_deleted"
        return _CALL_EVENT_BY_STATUS.get(resource.status, "call_updated")
    if isinstance(resource, Groupcall):
        if resource.tm_delete is not None:
            return "groupcall_deleted"
        if resource.status == "hangup":
            return "groupcall_hangup"
        if not is_nil(resource.answer_call_id):
            return "groupcall_progressing"
        return "groupcall_created"
    if isinstance(resource, Transcribe):
        if resource.tm_delete is not None:
            return "transcribe_deleted"
        return "transcribe_done" if resource.status == TranscribeStatus.DONE else "transcribe_created"
    if isinstance(resource, Transcript):
        return "transcript_created"
    if isinstance(resource, SpeechEvent):
        # A bare frame cannot tell started from ended; EventNamer refines this.
        return "transcribe_speech_interim" if resource.is_interim else "transcribe_speech_started"
    if kind == "activeflow":
        return "activeflow_deleted" if payload.get("tm_delete") else "activeflow_updated"
    return "unrecognised"


def _validation_reason(kind: str, exc: ValidationError) -> str:
    try:
        first = exc.errors(include_url=False, include_input=False, include_context=False)[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))[:80]
        msg = str(first.get("msg", "invalid"))[:120]
        more = exc.error_count() - 1
        tail = f" (+{more} more)" if more > 0 else ""
        return f"invalid {kind} payload: {loc}: {msg}{tail}"
    except Exception:  # pragma: no cover - defensive
        return f"invalid {kind} payload"


def _keys_hint(payload: dict[str, Any]) -> str:
    keys = [str(k)[:30] for k in list(payload)[:8]]
    more = "…" if len(payload) > 8 else ""
    return ", ".join(keys) + more if keys else "empty object"


def _payload_id(payload: dict[str, Any]) -> str | None:
    value = payload.get("id")
    if isinstance(value, str) and value and not is_nil(value):
        return value[:_MAX_NAME]
    return None


def classify_payload(
    payload: dict[str, Any],
    *,
    declared: str | None = None,
    shape: FrameShape = "bare",
    raw: str = "",
    received_at: float | None = None,
    received_mono: float | None = None,
    topic: str | None = None,
    timestamp: str | None = None,
    truncated: bool = False,
    size: int = 0,
) -> Event:
    """Classify an already-decoded payload (the resource JSON). Never raises."""
    at = time.time() if received_at is None else received_at
    mono = time.monotonic() if received_mono is None else received_mono
    common: dict[str, Any] = {
        "shape": shape,
        "raw": raw,
        "data": payload,
        "received_at": at,
        "received_mono": mono,
        "topic": topic,
        "timestamp": timestamp,
        "truncated": truncated,
        "size": size,
        "id": _payload_id(payload),
        "declared_event": declared,
        "inferred": declared is None,
    }
    try:
        inferred_kind = infer_kind(payload)
        if declared is not None:
            kind = event_kind_for_name(declared)
            if kind is None:
                return UnrecognisedEvent(
                    kind="unrecognised", event=declared, reason=f"unknown event type {declared!r}", **common
                )
            if inferred_kind is not None and inferred_kind != kind:
                return UnrecognisedEvent(
                    kind="unrecognised",
                    event=declared,
                    reason=f"event type {declared!r} does not match a {inferred_kind} payload",
                    **common,
                )
        else:
            if inferred_kind is None:
                return UnrecognisedEvent(
                    kind="unrecognised",
                    event="unrecognised",
                    reason=f"no known resource shape (keys: {_keys_hint(payload)})",
                    **common,
                )
            kind = inferred_kind
        model = _MODEL.get(kind)
        resource: VoipbinModel | None = None
        if model is not None:
            try:
                resource = model.model_validate(payload)
            except ValidationError as exc:
                return UnrecognisedEvent(
                    kind="unrecognised",
                    event=declared or f"{kind}_invalid",
                    reason=_validation_reason(kind, exc),
                    **common,
                )
        name = declared if declared is not None else _name_from_resource(kind, resource, payload)
        return _EVENT_CLASS[kind](kind=kind, event=name, resource=resource, **common)
    except Exception as exc:  # last line of defence: classification must never raise
        return UnrecognisedEvent(
            kind="unrecognised",
            event=declared or "unrecognised",
            reason=f"could not classify: {type(exc).__name__}",
            **common,
        )


def classify_frame(
    text: str | bytes | bytearray | memoryview,
    *,
    received_at: float | None = None,
    received_mono: float | None = None,
) -> Event:
    """Classify one frame (text or binary) into a typed event. Never raises."""
    at = time.time() if received_at is None else received_at
    mono = time.monotonic() if received_mono is None else received_mono
    try:
        return _classify(text, at, mono)
    except Exception as exc:  # last line of defence
        return UnrecognisedEvent(
            kind="unrecognised",
            event="unrecognised",
            id=None,
            shape="invalid",
            raw=_safe_raw(text),
            data={},
            received_at=at,
            received_mono=mono,
            reason=f"could not classify: {type(exc).__name__}",
        )


def _safe_raw(text: object) -> str:
    try:
        if isinstance(text, bytes | bytearray | memoryview):
            return bytes(text[:RAW_CAP]).decode("utf-8", errors="replace")
        return str(text)[:RAW_CAP]
    except Exception:
        return ""


def _invalid(raw: str, reason: str, at: float, mono: float, *, truncated: bool, size: int) -> Event:
    return UnrecognisedEvent(
        kind="unrecognised",
        event="unrecognised",
        id=None,
        shape="invalid",
        raw=raw,
        data={},
        received_at=at,
        received_mono=mono,
        reason=reason,
        truncated=truncated,
        size=size,
    )


def _classify(frame: object, at: float, mono: float) -> Event:
    if isinstance(frame, bytes | bytearray | memoryview):
        blob = bytes(frame)
        size = len(blob)
        try:
            text = blob.decode("utf-8")
        except UnicodeDecodeError:
            raw = blob[:RAW_CAP].decode("utf-8", errors="replace")
            reason = "binary frame is not UTF-8 text"
            return _invalid(raw, reason, at, mono, truncated=size > RAW_CAP, size=size)
    elif isinstance(frame, str):
        text = frame
        size = len(text)
    else:
        raw = _safe_raw(frame)
        return _invalid(raw, f"frame of type {type(frame).__name__}", at, mono, truncated=False, size=0)

    truncated = len(text) > RAW_CAP
    raw = text[:RAW_CAP] if truncated else text
    if len(text) > MAX_PARSE_CHARS:
        reason = f"frame too large to parse ({size} characters)"
        return _invalid(raw, reason, at, mono, truncated=truncated, size=size)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return _invalid(raw, f"not JSON ({exc.msg} at {exc.pos})", at, mono, truncated=truncated, size=size)
    except (ValueError, RecursionError) as exc:
        return _invalid(raw, f"not JSON ({type(exc).__name__})", at, mono, truncated=truncated, size=size)
    if not isinstance(obj, dict):
        what = "null" if obj is None else type(obj).__name__
        return _invalid(raw, f"JSON {what}, not an object", at, mono, truncated=truncated, size=size)

    common: dict[str, Any] = {
        "raw": raw,
        "received_at": at,
        "received_mono": mono,
        "truncated": truncated,
        "size": size,
    }
    if "data" in obj and "event_type" in obj:
        name, data = obj.get("event_type"), obj.get("data")
        topic = obj.get("topic")
        stamp = obj.get("timestamp")
        extras: dict[str, Any] = {
            "topic": topic[:1024] if isinstance(topic, str) else None,
            "timestamp": stamp[:64] if isinstance(stamp, str) else None,
        }
        if not isinstance(name, str) or not name or not isinstance(data, dict):
            return _bad_envelope("documented", obj, name, data, common, extras)
        return classify_payload(data, declared=name[:_MAX_NAME], shape="documented", **extras, **common)
    if "data" in obj and isinstance(obj.get("type"), str):
        name, data = obj["type"], obj.get("data")
        if not name or not isinstance(data, dict):
            return _bad_envelope("wrapped", obj, name, data, common, {})
        return classify_payload(data, declared=name[:_MAX_NAME], shape="wrapped", **common)
    return classify_payload(obj, shape="bare", **common)


def _bad_envelope(
    shape: FrameShape,
    obj: dict[str, Any],
    name: object,
    data: object,
    common: dict[str, Any],
    extras: dict[str, Any],
) -> Event:
    if not isinstance(name, str) or not name:
        reason = f"{shape} envelope without an event name"
    else:
        what = "null" if data is None else type(data).__name__
        reason = f"{shape} envelope whose data is {what}, not an object"
    event = name[:_MAX_NAME] if isinstance(name, str) and name else "unrecognised"
    return UnrecognisedEvent(
        kind="unrecognised",
        event=event,
        id=None,
        shape=shape,
        data=obj,
        reason=reason,
        declared_event=event if event != "unrecognised" else None,
        inferred=False,
        **extras,
        **common,
    )
