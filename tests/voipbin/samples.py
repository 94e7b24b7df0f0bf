"""Example payloads: the real server's shapes (README §4, §6) and the docs/seed shapes (NOTES §A)."""

from __future__ import annotations

import base64
import json
from typing import Any

CUSTOMER_ID = "550e8400-e29b-41d4-a716-446655440000"
CALL_ID = "e2a65df2-4e50-4e37-8628-df07b3cec579"
GROUPCALL_ID = "3a0b6c2e-0c55-4f7e-9a3a-5b1d2f9e7c10"
TRANSCRIBE_ID = "8c5a9e2a-2a7f-4a6f-9f1d-debd72c279ce"
TRANSCRIPT_ID = "9d59e7f0-7bdc-4c52-bb8c-bab718952050"
SPEAKING_ID = "f1e103d2-0429-4170-83b3-e95e29bb0ca8"
STREAMING_ID = "b8c9d0e1-f2a3-4b5c-6d7e-8f9a0b1c2d3e"
NIL = "00000000-0000-0000-0000-000000000000"


def call(status: str = "dialing", **over: Any) -> dict[str, Any]:
    """A call leg as the real server renders it (README §4.5)."""
    data: dict[str, Any] = {
        "id": CALL_ID,
        "customer_id": CUSTOMER_ID,
        "owner_type": "",
        "owner_id": NIL,
        "flow_id": "9d2f0000-0000-4000-8000-000000000001",
        "activeflow_id": "c81e0000-0000-4000-8000-000000000002",
        "type": "flow",
        "master_call_id": NIL,
        "recording_id": NIL,
        "groupcall_id": NIL,
        "source": {"type": "tel", "target": "+15551234567"},
        "destination": {
            "type": "sip",
            "target": "sip:quickstart1@198.51.100.7:5060;transport=udp",
            "target_name": "quickstart1",
        },
        "status": status,
        "action": {
            "id": "00000000-0000-0000-0000-000000000001",
            "next_id": NIL,
            "tm_execute": None,
        },
        "direction": "outgoing",
        "tm_create": "2026-02-21T10:05:00.183311Z",
    }
    if status in ("ringing", "progressing", "terminating", "hangup"):
        data["tm_ringing"] = "2026-02-21T10:05:01.2Z"
    if status in ("progressing", "terminating", "hangup"):
        data["tm_progressing"] = "2026-02-21T10:05:02Z"
        data["tm_update"] = "2026-02-21T10:05:02.000001Z"
    if status == "hangup":
        data["hangup_by"] = "remote"
        data["hangup_reason"] = "normal"
        data["tm_hangup"] = "2026-02-21T10:06:02.5Z"
    data.update(over)
    return data


def groupcall(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": GROUPCALL_ID,
        "customer_id": CUSTOMER_ID,
        "owner_type": "",
        "owner_id": NIL,
        "status": "progressing",
        "flow_id": "9d2f0000-0000-4000-8000-000000000001",
        "source": {"type": "tel", "target": "+15551234567"},
        "destinations": [{"type": "extension", "target_name": "quickstart1"}],
        "master_call_id": NIL,
        "master_groupcall_id": NIL,
        "ring_method": "ring_all",
        "answer_method": "hangup_others",
        "answer_call_id": NIL,
        "call_ids": [CALL_ID],
        "answer_groupcall_id": NIL,
        "call_count": 1,
        "tm_create": "2026-02-21T10:05:00.101234Z",
    }
    data.update(over)
    return data


def transcribe(status: str = "progressing", **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": TRANSCRIBE_ID,
        "customer_id": CUSTOMER_ID,
        "activeflow_id": NIL,
        "on_end_flow_id": NIL,
        "reference_type": "call",
        "reference_id": CALL_ID,
        "status": status,
        "language": "en-US",
        "direction": "both",
        "provider": "",
        "tm_create": "2026-02-21T10:05:01.877102Z",
        "tm_update": None,
        "tm_delete": None,
    }
    data.update(over)
    return data


def transcript(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": TRANSCRIPT_ID,
        "customer_id": CUSTOMER_ID,
        "transcribe_id": TRANSCRIBE_ID,
        "direction": "in",
        "message": "Hi, this is a test of the transcription feature.",
        "tm_transcript": "0001-01-01T00:00:12.904Z",
        "tm_create": "2026-02-21T10:05:15.1Z",
    }
    data.update(over)
    return data


def speech(message: str | None = None, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "a1b2c3d4-e5f6-4890-abcd-ef1234567890",
        "customer_id": CUSTOMER_ID,
        "streaming_id": STREAMING_ID,
        "transcribe_id": TRANSCRIBE_ID,
        "direction": "in",
        "tm_event": "2026-02-21T10:05:14.3Z",
        "tm_create": "2026-02-21T10:05:14.3Z",
    }
    if message is not None:
        data["message"] = message
    data.update(over)
    return data


def speaking(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": SPEAKING_ID,
        "customer_id": CUSTOMER_ID,
        "reference_type": "call",
        "reference_id": CALL_ID,
        "language": "en-US",
        "provider": "elevenlabs",
        "direction": "out",
        "status": "active",
        "tm_create": "2026-02-21T10:06:00.412001Z",
        "tm_update": "2026-02-21T10:06:00.958770Z",
    }
    data.update(over)
    return data


# The seed page's speaking response (older docs shape, NOTES §A10).
SEED_SPEAKING: dict[str, Any] = {
    "id": SPEAKING_ID,
    "customer_id": CUSTOMER_ID,
    "reference_type": "call",
    "reference_id": "<call-id>",
    "language": "en-US",
    "provider": "elevenlabs",
    "voice_id": "",
    "direction": "out",
    "status": "initiating",
    "pod_id": "",
    "tm_create": "2026-02-21T10:06:00.000000Z",
    "tm_update": "",
    "tm_delete": "",
}

# The seed page's documented WebSocket frame (NOTES §A1).
SEED_DOCUMENTED_TRANSCRIPT: dict[str, Any] = {
    "event_type": "transcript_created",
    "timestamp": "2026-02-21T10:05:02.000000Z",
    "topic": f"customer_id:{CUSTOMER_ID}:transcribe:{TRANSCRIBE_ID}",
    "data": {
        "id": TRANSCRIPT_ID,
        "transcribe_id": TRANSCRIBE_ID,
        "direction": "out",
        "message": "Hello. This is the VoIPBIN real-time voice interaction test.",
        "tm_create": "2026-02-21T10:05:02.233415Z",
    },
}

NUMBER: dict[str, Any] = {
    "id": "11111111-1111-4111-8111-111111111111",
    "customer_id": CUSTOMER_ID,
    "number": "+15551234567",
    "type": "normal",
    "call_flow_id": NIL,
    "message_flow_id": NIL,
    "name": "",
    "detail": "",
    "status": "active",
    "t38_enabled": False,
    "emergency_enabled": False,
    "metadata": {"rtp_debug": False},
    "tm_purchase": "2026-01-01T00:00:00Z",
    "tm_renew": "2026-01-01T00:00:00Z",
    "tm_create": "2026-01-01T00:00:00.5Z",
    "tm_update": None,
    "tm_delete": None,
}

EXTENSION: dict[str, Any] = {
    "id": "22222222-2222-4222-8222-222222222222",
    "customer_id": CUSTOMER_ID,
    "name": "quickstart-phone",
    "detail": "Quickstart softphone extension",
    "extension": "quickstart1",
    "domain_name": CUSTOMER_ID,
    "username": "quickstart1",
    "password": "s3cr3t-sip-pass",
    "direct_hash": "direct.a1b2c3d4e5f6",
    "tm_create": "2026-01-01T00:00:00Z",
    "tm_update": None,
    "tm_delete": None,
}

CUSTOMER: dict[str, Any] = {
    "id": CUSTOMER_ID,
    "name": "Acme",
    "detail": "",
    "email": "admin@example.com",
    "webhook_method": "POST",
    "webhook_uri": "https://example.com/hook",
    "billing_account_id": "6b8c0000-0000-4000-8000-000000000003",
    "metadata": {"rtp_debug": False},
    "email_verified": True,
    "status": "active",
    "identity_verification_status": "none",
    "tm_deletion_scheduled": None,
    "tm_create": "2026-01-02T03:04:05.123456Z",
    "tm_update": "2026-01-03T03:04:05.1Z",
    "tm_delete": None,
    "webhook_secret": "whsec-very-secret",
}


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def make_jwt(payload: dict[str, Any]) -> str:
    """An unsigned-looking HS256 JWT with the given payload (signature is junk: we never verify)."""

    def seg(obj: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{seg({'alg': 'HS256', 'typ': 'JWT'})}.{seg(payload)}.c2lnbmF0dXJl"


def voipbin_jwt(expire: str = "2099-03-01T10:00:00.000000Z", customer_id: str = CUSTOMER_ID) -> str:
    return make_jwt(
        {
            "type": "agent",
            "agent": {
                "id": "33333333-3333-4333-8333-333333333333",
                "customer_id": customer_id,
                "username": "admin@example.com",
                "permission": 32,
            },
            "expire": expire,
        }
    )
