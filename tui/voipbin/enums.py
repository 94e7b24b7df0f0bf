"""VoIPBIN's string enums, kept open: values outside ``KNOWN`` are shown as they come, never rejected."""

from __future__ import annotations

from typing import Final, Literal


class CallStatus:
    DIALING: Final = "dialing"
    RINGING: Final = "ringing"
    PROGRESSING: Final = "progressing"
    TERMINATING: Final = "terminating"
    CANCELING: Final = "canceling"
    HANGUP: Final = "hangup"
    KNOWN: Final = frozenset({"dialing", "ringing", "progressing", "terminating", "canceling", "hangup"})


CallStatusLiteral = Literal["dialing", "ringing", "progressing", "terminating", "canceling", "hangup"]


class CallDirection:
    INCOMING: Final = "incoming"
    OUTGOING: Final = "outgoing"
    KNOWN: Final = frozenset({"incoming", "outgoing"})


class GroupcallStatus:
    PROGRESSING: Final = "progressing"
    HANGINGUP: Final = "hangingup"
    HANGUP: Final = "hangup"
    KNOWN: Final = frozenset({"progressing", "hangingup", "hangup"})


class AddressType:
    NONE: Final = ""
    AGENT: Final = "agent"
    CONFERENCE: Final = "conference"
    EXTENSION: Final = "extension"
    SIP: Final = "sip"
    TEL: Final = "tel"
    KNOWN: Final = frozenset(
        {
            "",
            "agent",
            "ai",
            "ai_team",
            "conference",
            "email",
            "extension",
            "line",
            "sip",
            "tel",
            "webchat",
            "web_session",
            "whatsapp",
        }
    )


class ActionType:
    TRANSCRIBE_START: Final = "transcribe_start"
    TALK: Final = "talk"
    SLEEP: Final = "sleep"
    HANGUP: Final = "hangup"


class SpeakingStatus:
    INITIATING: Final = "initiating"
    ACTIVE: Final = "active"
    STOPPED: Final = "stopped"
    KNOWN: Final = frozenset({"initiating", "active", "stopped"})


class SpeakingDirection:
    NONE: Final = ""
    IN: Final = "in"
    OUT: Final = "out"
    BOTH: Final = "both"
    KNOWN: Final = frozenset({"", "in", "out", "both"})


class TranscribeStatus:
    PROGRESSING: Final = "progressing"
    DONE: Final = "done"
    KNOWN: Final = frozenset({"progressing", "done"})


class TranscribeDirection:
    BOTH: Final = "both"
    IN: Final = "in"
    OUT: Final = "out"
    KNOWN: Final = frozenset({"both", "in", "out"})


TranscriptDirection = TranscribeDirection
