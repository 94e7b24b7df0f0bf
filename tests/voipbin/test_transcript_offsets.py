"""Transcript offsets from ``tm_transcript`` (server code) or ``offset_ms`` (newer clients), NOTES §F2."""

from __future__ import annotations

from typing import Any

import pytest

from tui.voipbin.frames import classify_payload
from tui.voipbin.models import Transcript

BASE: dict[str, Any] = {
    "id": "9d59e7f0-7bdc-4c52-bb8c-bab718952050",
    "customer_id": "550e8400-e29b-41d4-a716-446655440000",
    "transcribe_id": "8c5a9e2a-2a7f-4a6f-9f1d-debd72c279ce",
    "direction": "in",
    "message": "Hi.",
    "tm_create": "2026-02-21T10:05:15.1Z",
}


@pytest.mark.parametrize(
    ("fields", "seconds"),
    [
        ({"tm_transcript": "0001-01-01T00:00:12.904Z"}, 12.904),
        ({"offset_ms": 12904}, 12.904),
        ({"offset_ms": 12904.5}, 12.9045),
        ({"tm_transcript": "0001-01-01T00:00:12.904Z", "offset_ms": 99}, 12.904),  # both: the server code's wins
        ({"tm_transcript": None, "offset_ms": 1500}, 1.5),
        ({"offset_ms": "12904"}, None),  # not a number: ignored, never a crash
        ({"offset_ms": -5}, None),
        ({"offset_ms": True}, None),
        ({}, None),
    ],
)
def test_offset_read_from_either_field(fields: dict[str, Any], seconds: float | None) -> None:
    transcript = Transcript.model_validate({**BASE, **fields})
    assert transcript.offset_seconds == (None if seconds is None else pytest.approx(seconds))


def test_a_frame_with_only_offset_ms_is_a_transcript() -> None:
    payload = {k: v for k, v in BASE.items() if k != "message"} | {"offset_ms": 250}
    event = classify_payload(payload)
    assert event.kind == "transcript"
    assert isinstance(event.resource, Transcript)
    assert event.resource.offset_seconds == pytest.approx(0.25)
