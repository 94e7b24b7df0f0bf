"""Property-based tests: nothing thrown at the classifier makes it raise.

Every input — arbitrary JSON values, known shapes with wrong types, envelopes
around junk, huge strings, deep nesting, random bytes, non-JSON text — comes
back as one Event of an allowed kind, typed or "unrecognised" with a reason.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.voipbin import samples
from tui.voipbin.dedupe import EventNamer
from tui.voipbin.events import EVENT_KINDS, FRAME_SHAPES, Event
from tui.voipbin.frames import classify_frame

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=50)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=15), children, max_size=6),
    max_leaves=30,
)

KNOWN = [
    samples.call("dialing"),
    samples.call("progressing"),
    samples.call("hangup"),
    samples.groupcall(),
    samples.transcribe(),
    samples.transcribe("done"),
    samples.transcript(),
    samples.speech(),
    samples.speech("partial"),
    samples.speaking(),
]
EVENT_NAMES = [
    "call_created",
    "call_updated",
    "call_hangup",
    "groupcall_progressing",
    "transcribe_created",
    "transcribe_speech_interim",
    "transcript_created",
    "activeflow_updated",
    "speaking_started",
    "",
]


def check(event: Event) -> None:
    assert isinstance(event, Event)
    assert event.kind in EVENT_KINDS
    assert event.shape in FRAME_SHAPES
    assert isinstance(event.event, str)
    assert event.event
    assert isinstance(event.raw, str)
    assert isinstance(event.data, dict)
    if event.kind == "unrecognised":
        assert event.reason
        assert event.resource is None
    elif event.kind != "activeflow":
        assert event.resource is not None


def classify_and_name(frame: str | bytes, namer: EventNamer | None = None) -> Event:
    event = classify_frame(frame)
    check(event)
    named = (namer or EventNamer()).process(event)
    check(named)
    return named


def dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=True)


@FUZZ
@given(json_values)
def test_arbitrary_json_values(value: Any) -> None:
    classify_and_name(dumps(value))


@FUZZ
@given(st.sampled_from(KNOWN), st.dictionaries(st.text(max_size=20), json_values, max_size=4), st.data())
def test_known_shapes_with_wrong_types(base: dict[str, Any], extra: dict[str, Any], data: st.DataObject) -> None:
    payload = dict(base)
    keys = data.draw(st.lists(st.sampled_from(sorted(payload)), max_size=5, unique=True))
    for key in keys:
        payload[key] = data.draw(json_values)
    payload.update(extra)
    namer = EventNamer()
    for shape in ("bare", "wrapped", "documented"):
        if shape == "bare":
            frame = dumps(payload)
        elif shape == "wrapped":
            frame = dumps({"type": data.draw(st.sampled_from(EVENT_NAMES)), "data": payload})
        else:
            frame = dumps(
                {
                    "event_type": data.draw(st.sampled_from(EVENT_NAMES) | st.text(max_size=30)),
                    "timestamp": data.draw(json_values),
                    "topic": data.draw(json_values),
                    "data": payload,
                }
            )
        classify_and_name(frame, namer)


@FUZZ
@given(json_values, json_values, st.booleans())
def test_envelopes_around_anything(name: Any, data: Any, documented: bool) -> None:
    frame = {"event_type": name, "data": data} if documented else {"type": name, "data": data}
    classify_and_name(dumps(frame))


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes(blob: bytes) -> None:
    classify_and_name(blob)


@FUZZ
@given(st.text(max_size=2000))
def test_random_text(text: str) -> None:
    classify_and_name(text)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=100_000, max_value=3_000_000), st.sampled_from(["message", "id", "status", "junk"]))
def test_huge_strings(size: int, field: str) -> None:
    payload = samples.transcript()
    payload[field] = "é" * size
    event = classify_and_name(dumps(payload))
    assert len(event.raw) <= 64 * 1024


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=1, max_value=200_000), st.sampled_from(["[", '{"a":']))
def test_deep_nesting(depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    classify_and_name(opener * depth + "1" + closer * depth)
    # nested inside a known shape too
    payload_text = json.dumps(samples.call("ringing"))[:-1] + ', "metadata": ' + "[" * depth + "]" * depth + "}"
    classify_and_name(payload_text)


def test_frame_beyond_parse_limit() -> None:
    event = classify_and_name('{"id": "' + "x" * (5 * 1024 * 1024) + '"}')
    assert event.kind == "unrecognised"
    assert event.truncated
