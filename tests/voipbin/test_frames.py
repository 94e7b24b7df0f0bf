"""The frame classifier: every shape × every resource, and every way a frame can be wrong."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.voipbin import samples
from tui.voipbin.events import (
    CallEvent,
    GroupcallEvent,
    SpeechActivityEvent,
    TranscribeEvent,
    TranscriptEvent,
    UnrecognisedEvent,
)
from tui.voipbin.frames import RAW_CAP, classify_frame, event_kind_for_name, infer_kind
from tui.voipbin.models import Call, Groupcall, SpeechEvent, Transcribe, Transcript

# (payload, bare inferred name, the event-type name a wrapped/documented frame would carry, event class, model)
CASES: list[tuple[str, dict[str, Any], str, str, type, type]] = [
    ("call dialing", samples.call("dialing"), "call_created", "call_created", CallEvent, Call),
    ("call ringing", samples.call("ringing"), "call_ringing", "call_ringing", CallEvent, Call),
    ("call progressing", samples.call("progressing"), "call_progressing", "call_progressing", CallEvent, Call),
    ("call terminating", samples.call("terminating"), "call_terminating", "call_terminating", CallEvent, Call),
    ("call canceling", samples.call("canceling"), "call_canceling", "call_canceling", CallEvent, Call),
    ("call hangup", samples.call("hangup"), "call_hangup", "call_hangup", CallEvent, Call),
    (
        "call deleted",
        samples.call("hangup", tm_delete="2026-02-21T10:07:00Z"),
        "call_deleted",
        "call_deleted",
        CallEvent,
        Call,
    ),
    ("groupcall created", samples.groupcall(), "groupcall_created", "groupcall_created", GroupcallEvent, Groupcall),
    (
        "groupcall progressing",
        samples.groupcall(answer_call_id=samples.CALL_ID),
        "groupcall_progressing",
        "groupcall_progressing",
        GroupcallEvent,
        Groupcall,
    ),
    (
        "groupcall hangup",
        samples.groupcall(status="hangup", answer_call_id=samples.CALL_ID),
        "groupcall_hangup",
        "groupcall_hangup",
        GroupcallEvent,
        Groupcall,
    ),
    (
        "transcribe created",
        samples.transcribe("progressing"),
        "transcribe_created",
        "transcribe_created",
        TranscribeEvent,
        Transcribe,
    ),
    ("transcribe done", samples.transcribe("done"), "transcribe_done", "transcribe_done", TranscribeEvent, Transcribe),
    ("transcript", samples.transcript(), "transcript_created", "transcript_created", TranscriptEvent, Transcript),
    (
        "speech interim",
        samples.speech("hello wor"),
        "transcribe_speech_interim",
        "transcribe_speech_interim",
        SpeechActivityEvent,
        SpeechEvent,
    ),
    (
        "speech started",
        samples.speech(),
        "transcribe_speech_started",
        "transcribe_speech_started",
        SpeechActivityEvent,
        SpeechEvent,
    ),
    (
        "speech ended (declared)",
        samples.speech(),
        "transcribe_speech_started",  # a bare frame cannot tell; EventNamer refines
        "transcribe_speech_ended",
        SpeechActivityEvent,
        SpeechEvent,
    ),
]
IDS = [c[0] for c in CASES]


def wrap(shape: str, name: str, payload: dict[str, Any]) -> str:
    if shape == "bare":
        return json.dumps(payload)
    if shape == "wrapped":
        return json.dumps({"type": name, "data": payload})
    return json.dumps(
        {
            "event_type": name,
            "timestamp": "2026-02-21T10:05:02.000000Z",
            "topic": f"customer_id:{samples.CUSTOMER_ID}:{name.split('_')[0]}:{name}:x",
            "data": payload,
        }
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_bare(case: tuple[str, dict[str, Any], str, str, type, type]) -> None:
    _, payload, bare_name, _, cls, model = case
    text = json.dumps(payload)
    ev = classify_frame(text, received_at=123.0)
    assert type(ev) is cls
    assert ev.shape == "bare"
    assert ev.event == bare_name
    assert ev.inferred is True
    assert ev.declared_event is None
    assert isinstance(ev.resource, model)
    assert ev.data == payload
    assert ev.raw == text
    assert ev.id == payload["id"]
    assert ev.received_at == 123.0
    assert ev.topic is None
    assert ev.reason is None
    assert not ev.duplicate


@pytest.mark.parametrize("shape", ["wrapped", "documented"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_envelopes(case: tuple[str, dict[str, Any], str, str, type, type], shape: str) -> None:
    _, payload, _, declared, cls, model = case
    ev = classify_frame(wrap(shape, declared, payload))
    assert type(ev) is cls
    assert ev.shape == shape
    assert ev.event == declared
    assert ev.inferred is False
    assert ev.declared_event == declared
    assert isinstance(ev.resource, model)
    assert ev.data == payload
    if shape == "documented":
        assert ev.topic is not None
        assert ev.topic.startswith("customer_id:")
        assert ev.timestamp == "2026-02-21T10:05:02.000000Z"


def test_typed_accessors() -> None:
    ev = classify_frame(json.dumps(samples.call("ringing")))
    assert ev.call is not None
    assert ev.call.status == "ringing"
    assert ev.transcript is None
    assert ev.groupcall is None
    assert ev.speech is None
    assert ev.transcribe is None
    tr = classify_frame(json.dumps(samples.transcript()))
    assert tr.transcript is not None
    assert tr.transcript.direction == "in"
    assert tr.call is None


def test_call_updated_name_from_envelope_is_kept() -> None:
    ev = classify_frame(wrap("wrapped", "call_updated", samples.call("progressing")))
    assert ev.event == "call_updated"


def test_seed_documented_transcript_without_tm_transcript() -> None:
    ev = classify_frame(json.dumps(samples.SEED_DOCUMENTED_TRANSCRIPT))
    assert isinstance(ev, TranscriptEvent)
    assert ev.event == "transcript_created"
    assert ev.transcript.direction == "out"
    assert ev.topic == samples.SEED_DOCUMENTED_TRANSCRIPT["topic"]


def test_seed_in_transcript_documented_minimal() -> None:
    frame = {
        "event_type": "transcript_created",
        "data": {"transcribe_id": samples.TRANSCRIBE_ID, "direction": "in", "message": "Hi"},
    }
    ev = classify_frame(json.dumps(frame))
    assert isinstance(ev, TranscriptEvent)
    assert ev.id is None
    assert ev.shape == "documented"


def test_activeflow() -> None:
    payload = {"id": "x1", "current_action": {"type": "talk"}, "status": "running"}
    ev = classify_frame(json.dumps(payload))
    assert ev.kind == "activeflow"
    assert ev.event == "activeflow_updated"
    assert ev.resource is None
    wrapped = classify_frame(json.dumps({"type": "activeflow_created", "data": {"id": "x1"}}))
    assert wrapped.kind == "activeflow"
    assert wrapped.event == "activeflow_created"


def test_binary_utf8_frame_is_classified() -> None:
    ev = classify_frame(json.dumps(samples.call("ringing")).encode())
    assert isinstance(ev, CallEvent)


@pytest.mark.parametrize(
    ("frame", "reason_part", "shape"),
    [
        ("", "not JSON", "invalid"),
        ("not json", "not JSON", "invalid"),
        ("{", "not JSON", "invalid"),
        ("[1, 2]", "JSON list, not an object", "invalid"),
        ("42", "JSON int", "invalid"),
        ('"str"', "JSON str", "invalid"),
        ("null", "JSON null", "invalid"),
        ("true", "JSON bool", "invalid"),
        ("{}", "no known resource shape", "bare"),
        ('{"hello": "world"}', "no known resource shape", "bare"),
        (b"\xff\xfe\x00garbage", "not UTF-8", "invalid"),
        ("[" * 100_000 + "]" * 100_000, "not JSON", "invalid"),
        ("1" * 5000, "not JSON", "invalid"),  # int too long for Python's str→int limit
        ('{"type": "call_created", "data": null}', "not an object", "wrapped"),
        ('{"type": "call_created", "data": [1]}', "not an object", "wrapped"),
        ('{"event_type": 5, "data": {}}', "without an event name", "documented"),
        ('{"event_type": "call_created", "data": "x"}', "not an object", "documented"),
        ('{"type": "message_created", "data": {"id": "m"}}', "unknown event type", "wrapped"),
        ('{"type": "speaking_started", "data": {"id": "s"}}', "unknown event type", "wrapped"),
    ],
)
def test_unrecognised(frame: str | bytes, reason_part: str, shape: str) -> None:
    ev = classify_frame(frame)
    assert isinstance(ev, UnrecognisedEvent)
    assert ev.kind == "unrecognised"
    assert ev.shape == shape
    assert ev.reason is not None
    assert reason_part in ev.reason, ev.reason
    assert ev.resource is None


def test_declared_name_must_match_payload() -> None:
    ev = classify_frame(json.dumps({"type": "call_hangup", "data": samples.transcript()}))
    assert isinstance(ev, UnrecognisedEvent)
    assert ev.reason is not None
    assert "transcript payload" in ev.reason
    assert ev.event == "call_hangup"


@pytest.mark.parametrize(
    "payload",
    [
        samples.call("ringing", id=5),
        samples.call("ringing", source="tel:+1"),
        samples.call("ringing", chained_call_ids="x"),
        samples.groupcall(call_ids=[1, 2]),
        samples.transcript(message={"text": "x"}),
        samples.speech(streaming_id=["a"]),
        samples.transcribe(language=7),
    ],
)
def test_wrong_types_in_known_shapes_are_unrecognised(payload: dict[str, Any]) -> None:
    ev = classify_frame(json.dumps(payload))
    assert isinstance(ev, UnrecognisedEvent)
    assert ev.reason is not None
    assert ev.reason.startswith("invalid ")
    assert ev.event.endswith("_invalid")
    assert ev.data == payload


def test_speaking_resource_is_not_mistaken_for_transcribe() -> None:
    ev = classify_frame(json.dumps(samples.speaking()))
    assert isinstance(ev, UnrecognisedEvent)


def test_unknown_call_status_still_a_call() -> None:
    ev = classify_frame(json.dumps(samples.call("early_media")))
    assert isinstance(ev, CallEvent)
    assert ev.event == "call_updated"


def test_huge_frame_truncated_raw() -> None:
    payload = samples.transcript(message="x" * (RAW_CAP * 2))
    text = json.dumps(payload)
    ev = classify_frame(text)
    assert isinstance(ev, TranscriptEvent)
    assert ev.truncated
    assert len(ev.raw) == RAW_CAP
    assert ev.size == len(text)
    assert ev.transcript.message == "x" * (RAW_CAP * 2)


def test_nan_and_infinity_do_not_break() -> None:
    ev = classify_frame('{"id": "x", "status": NaN, "direction": Infinity}')
    assert ev.kind == "unrecognised"
    ev2 = classify_frame(json.dumps(samples.groupcall()).replace('"call_count": 1', '"call_count": NaN'))
    assert ev2.kind in ("groupcall", "unrecognised")


def test_non_str_input_does_not_raise() -> None:
    ev = classify_frame(12345)  # type: ignore[arg-type]
    assert ev.kind == "unrecognised"


def test_kind_helpers() -> None:
    assert event_kind_for_name("transcribe_speech_started") == "speech"
    assert event_kind_for_name("transcribe_done") == "transcribe"
    assert event_kind_for_name("transcript_created") == "transcript"
    assert event_kind_for_name("groupcall_hangup") == "groupcall"
    assert event_kind_for_name("call_updated") == "call"
    assert event_kind_for_name("customer_updated") is None
    assert infer_kind({}) is None
    assert infer_kind(samples.speech()) == "speech"
