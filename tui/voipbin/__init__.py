"""The VoIPBIN client library: REST client, event stream, models. No Textual, ever.

Importing ``tui.voipbin`` is cheap: the public names below are loaded on first
use (PEP 562 ``__getattr__``), so neither httpx, websockets nor pydantic is
imported until something needs them.

Modules:

``redact``       keep secrets out of logs and screens
``safetext``     remote text made safe to show, log or write (visible escapes, length caps)
``timeparse``    Go timestamps, transcript offsets
``models``       pydantic models of the resources
``errors``       ``VoipbinError`` and friends
``credentials``  accesskey / JWT / username+password, JWT payload helpers
``rest``         ``VoipbinClient`` (httpx)
``events``       typed events and ``ConnectionState``
``frames``       ``classify_frame`` (never raises)
``dedupe``       ``EventNamer``: duplicates and names bare frames cannot carry
``stream``       ``EventStream`` (websockets) and ``subscriptions_for``
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.voipbin.credentials import Credentials, customer_id_from_token, is_jwt, jwt_payload, token_expiry
    from tui.voipbin.dedupe import EventNamer
    from tui.voipbin.errors import (
        AuthError,
        BadRequestError,
        ConflictError,
        ForbiddenError,
        NotFoundError,
        RateLimitError,
        ResponseFormatError,
        ServerError,
        TransportError,
        VoipbinError,
    )
    from tui.voipbin.events import (
        ActiveflowEvent,
        CallEvent,
        ConnectionState,
        Event,
        GroupcallEvent,
        SpeechActivityEvent,
        TranscribeEvent,
        TranscriptEvent,
        UnrecognisedEvent,
    )
    from tui.voipbin.frames import classify_frame
    from tui.voipbin.models import (
        CALL_STATUS_RANK,
        Action,
        Address,
        Call,
        CallCreateResult,
        Customer,
        ErrorBody,
        Extension,
        Groupcall,
        Number,
        Page,
        Speaking,
        SpeechEvent,
        Transcribe,
        Transcript,
        call_status_rank,
        hangup_action,
        is_nil,
        sleep_action,
        talk_action,
        transcribe_start_action,
    )
    from tui.voipbin.redact import REDACTED, redact_text, redact_url
    from tui.voipbin.rest import RequestRecord, VoipbinClient
    from tui.voipbin.stream import EventStream, backoff_delay, subscriptions_for
    from tui.voipbin.timeparse import offset_seconds, parse_time

_EXPORTS: dict[str, str] = {
    # redact
    "REDACTED": "redact",
    "redact_text": "redact",
    "redact_url": "redact",
    # timeparse
    "offset_seconds": "timeparse",
    "parse_time": "timeparse",
    # models
    "CALL_STATUS_RANK": "models",
    "Action": "models",
    "Address": "models",
    "Call": "models",
    "CallCreateResult": "models",
    "Customer": "models",
    "ErrorBody": "models",
    "Extension": "models",
    "Groupcall": "models",
    "Number": "models",
    "Page": "models",
    "Speaking": "models",
    "SpeechEvent": "models",
    "Transcribe": "models",
    "Transcript": "models",
    "call_status_rank": "models",
    "hangup_action": "models",
    "is_nil": "models",
    "sleep_action": "models",
    "talk_action": "models",
    "transcribe_start_action": "models",
    # errors
    "AuthError": "errors",
    "BadRequestError": "errors",
    "ConflictError": "errors",
    "ForbiddenError": "errors",
    "NotFoundError": "errors",
    "RateLimitError": "errors",
    "ResponseFormatError": "errors",
    "ServerError": "errors",
    "TransportError": "errors",
    "VoipbinError": "errors",
    # credentials
    "Credentials": "credentials",
    "customer_id_from_token": "credentials",
    "is_jwt": "credentials",
    "jwt_payload": "credentials",
    "token_expiry": "credentials",
    # events
    "ActiveflowEvent": "events",
    "CallEvent": "events",
    "ConnectionState": "events",
    "Event": "events",
    "GroupcallEvent": "events",
    "SpeechActivityEvent": "events",
    "TranscribeEvent": "events",
    "TranscriptEvent": "events",
    "UnrecognisedEvent": "events",
    # frames, dedupe
    "classify_frame": "frames",
    "EventNamer": "dedupe",
    # rest
    "RequestRecord": "rest",
    "VoipbinClient": "rest",
    # stream
    "EventStream": "stream",
    "backoff_delay": "stream",
    "subscriptions_for": "stream",
}

__all__ = [
    "CALL_STATUS_RANK",
    "REDACTED",
    "Action",
    "ActiveflowEvent",
    "Address",
    "AuthError",
    "BadRequestError",
    "Call",
    "CallCreateResult",
    "CallEvent",
    "ConflictError",
    "ConnectionState",
    "Credentials",
    "Customer",
    "ErrorBody",
    "Event",
    "EventNamer",
    "EventStream",
    "Extension",
    "ForbiddenError",
    "Groupcall",
    "GroupcallEvent",
    "NotFoundError",
    "Number",
    "Page",
    "RateLimitError",
    "RequestRecord",
    "ResponseFormatError",
    "ServerError",
    "Speaking",
    "SpeechActivityEvent",
    "SpeechEvent",
    "Transcribe",
    "TranscribeEvent",
    "Transcript",
    "TranscriptEvent",
    "TransportError",
    "UnrecognisedEvent",
    "VoipbinClient",
    "VoipbinError",
    "backoff_delay",
    "call_status_rank",
    "classify_frame",
    "customer_id_from_token",
    "hangup_action",
    "is_jwt",
    "is_nil",
    "jwt_payload",
    "offset_seconds",
    "parse_time",
    "redact_text",
    "redact_url",
    "sleep_action",
    "subscriptions_for",
    "talk_action",
    "token_expiry",
    "transcribe_start_action",
]


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{module_name}")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
