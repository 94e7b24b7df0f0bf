from __future__ import annotations

import json
from typing import Any

from tests.voipbin import samples
from tui.voipbin.dedupe import EventNamer, event_key
from tui.voipbin.events import Event
from tui.voipbin.frames import classify_frame


def bare(payload: dict[str, Any]) -> Event:
    return classify_frame(json.dumps(payload))


def wrapped(name: str, payload: dict[str, Any]) -> Event:
    return classify_frame(json.dumps({"type": name, "data": payload}))


def test_byte_identical_duplicates_are_marked_not_dropped() -> None:
    namer = EventNamer()
    first = namer.process(bare(samples.call("ringing")))
    second = namer.process(bare(samples.call("ringing")))
    assert not first.duplicate
    assert second.duplicate
    assert second.event == first.event == "call_ringing"
    assert namer.duplicates == 1
    assert namer.processed == 2


def test_same_payload_different_key_order_or_shape_is_duplicate() -> None:
    namer = EventNamer()
    payload = samples.transcript()
    namer.process(bare(payload))
    reordered = dict(reversed(list(payload.items())))
    assert namer.process(bare(reordered)).duplicate
    assert namer.process(wrapped("transcript_created", payload)).duplicate


def test_duplicate_keeps_first_name() -> None:
    namer = EventNamer()
    progressing = samples.call("progressing")
    assert namer.process(bare(progressing)).event == "call_progressing"
    dup = namer.process(bare(progressing))
    # without the key memory a second progressing frame would be renamed call_updated
    assert dup.duplicate
    assert dup.event == "call_progressing"


def test_call_updated_for_same_status_with_new_content() -> None:
    namer = EventNamer()
    assert namer.process(bare(samples.call("dialing"))).event == "call_created"
    assert namer.process(bare(samples.call("ringing"))).event == "call_ringing"
    assert namer.process(bare(samples.call("progressing"))).event == "call_progressing"
    talk = samples.call("progressing", action={"id": "a1", "next_id": "a2", "type": "talk", "tm_execute": None})
    assert namer.process(bare(talk)).event == "call_updated"
    sleep = samples.call("progressing", action={"id": "a2", "next_id": "a3", "type": "sleep", "tm_execute": None})
    assert namer.process(bare(sleep)).event == "call_updated"
    assert namer.process(bare(samples.call("hangup"))).event == "call_hangup"
    deleted = samples.call("hangup", tm_delete="2026-02-21T10:07:00Z")
    assert namer.process(bare(deleted)).event == "call_deleted"


def test_calls_are_tracked_separately() -> None:
    namer = EventNamer()
    assert namer.process(bare(samples.call("progressing"))).event == "call_progressing"
    other = samples.call("progressing", id="11111111-0000-4000-8000-000000000000")
    assert namer.process(bare(other)).event == "call_progressing"


def test_envelope_names_are_never_changed() -> None:
    namer = EventNamer()
    namer.process(bare(samples.call("progressing")))
    changed = samples.call("progressing", tm_update="2026-02-21T10:05:09Z")
    ev = namer.process(wrapped("call_progressing", changed))
    assert ev.event == "call_progressing"


def test_speech_started_then_ended() -> None:
    namer = EventNamer()
    started = namer.process(bare(samples.speech(id="s1")))
    interim1 = namer.process(bare(samples.speech("hel", id="s2")))
    interim2 = namer.process(bare(samples.speech("hello", id="s3")))
    ended = namer.process(bare(samples.speech(id="s4")))
    again = namer.process(bare(samples.speech(id="s5")))
    assert [e.event for e in (started, interim1, interim2, ended, again)] == [
        "transcribe_speech_started",
        "transcribe_speech_interim",
        "transcribe_speech_interim",
        "transcribe_speech_ended",
        "transcribe_speech_started",
    ]


def test_interim_opens_utterance_when_start_missed() -> None:
    namer = EventNamer()
    namer.process(bare(samples.speech("partial", id="i1")))
    assert namer.process(bare(samples.speech(id="e1"))).event == "transcribe_speech_ended"


def test_speech_streams_are_independent() -> None:
    namer = EventNamer()
    assert namer.process(bare(samples.speech(id="a"))).event == "transcribe_speech_started"
    other = samples.speech(id="b", streaming_id="99999999-0000-4000-8000-000000000000", direction="out")
    assert namer.process(bare(other)).event == "transcribe_speech_started"
    assert namer.process(bare(samples.speech(id="c"))).event == "transcribe_speech_ended"


def test_declared_speech_names_feed_state() -> None:
    namer = EventNamer()
    namer.process(wrapped("transcribe_speech_started", samples.speech(id="x1")))
    assert namer.process(bare(samples.speech(id="x2"))).event == "transcribe_speech_ended"


def test_unrecognised_frames_deduplicated_by_raw() -> None:
    namer = EventNamer()
    assert not namer.process(classify_frame("garbage")).duplicate
    assert namer.process(classify_frame("garbage")).duplicate
    assert not namer.process(classify_frame("other garbage")).duplicate


def test_lru_is_bounded() -> None:
    namer = EventNamer(max_keys=10)
    for i in range(50):
        namer.process(bare(samples.transcript(id=f"t{i}")))
    assert len(namer) == 10
    # the oldest was forgotten, the newest is remembered
    assert not namer.process(bare(samples.transcript(id="t0"))).duplicate
    assert namer.process(bare(samples.transcript(id="t49"))).duplicate


def test_event_key_distinguishes_kinds_and_content() -> None:
    a = bare(samples.transcript())
    b = bare(samples.transcript(message="different"))
    assert event_key(a) != event_key(b)
    assert event_key(a) == event_key(bare(samples.transcript()))
