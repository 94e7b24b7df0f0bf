"""Live-call logic as plain async Python: no Textual here (the UI and `watch` sit on top).

Names are loaded on first use so that importing one small module (say ``tui.session.dial`` from the
config) does not drag in the HTTP and WebSocket stacks.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Account": "tui.session.account",
    "CallSession": "tui.session.call_session",
    "DialRequest": "tui.session.dial",
    "SessionRecorder": "tui.session.record",
    "SayItem": "tui.session.says",
    "SayLedger": "tui.session.says",
    "SpeakingOptions": "tui.session.speaking",
    "TranscriptBook": "tui.session.transcript",
    "TranscriptChange": "tui.session.transcript",
    "TranscriptLine": "tui.session.transcript",
    **{
        name: "tui.session.updates"
        for name in (
            "CallEnded",
            "CallSummary",
            "CallUpdated",
            "GapRecovered",
            "Notice",
            "PhaseChanged",
            "SayUpdated",
            "SessionUpdate",
            "SpeakingUpdated",
            "TranscribeUpdated",
            "TranscriptUpdated",
        )
    },
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tui.session' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
