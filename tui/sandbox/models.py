"""In-memory resources and their JSON, field for field as VoIPBIN's webhook structs marshal them.

Each ``to_json`` follows the per-resource rules: calls, groupcalls and speakings omit unset times and
empty strings; transcribes, transcripts, customers, numbers and extensions write ``null`` times and
``""`` strings; UUIDs are always present (all-zero when unset). Key order follows the Go structs.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from tui.sandbox.encoding import ZERO_UUID, go_time, go_time_ns, go_time_or_none, offset_time


def address_json(address: dict[str, str]) -> dict[str, str]:
    """Address fields are all ``omitempty``."""
    out: dict[str, str] = {}
    for key in ("type", "target", "target_name", "name", "detail"):
        value = address.get(key, "")
        if value:
            out[key] = value
    return out


def _put_time(out: dict[str, Any], key: str, value: dt.datetime | None) -> None:
    if value is not None:
        out[key] = go_time(value)


@dataclass
class Customer:
    id: str
    name: str
    email: str
    identity_verification_status: str
    webhook_secret: str
    billing_account_id: str
    tm_create: dt.datetime

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id}
        if self.name:
            out["name"] = self.name
        if self.email:
            out["email"] = self.email
        out["billing_account_id"] = self.billing_account_id
        out["metadata"] = {"rtp_debug": False}
        out["email_verified"] = True
        out["status"] = "active"
        out["identity_verification_status"] = self.identity_verification_status
        out["tm_deletion_scheduled"] = None
        out["tm_create"] = go_time(self.tm_create)
        out["tm_update"] = None
        out["tm_delete"] = None
        if self.webhook_secret:
            out["webhook_secret"] = self.webhook_secret
        return out


@dataclass
class Number:
    id: str
    customer_id: str
    number: str
    tm_create: dt.datetime
    name: str = ""
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "number": self.number,
            "type": "normal",
            "call_flow_id": ZERO_UUID,
            "message_flow_id": ZERO_UUID,
            "name": self.name,
            "detail": self.detail,
            "status": "active",
            "t38_enabled": False,
            "emergency_enabled": False,
            "metadata": {"rtp_debug": False},
            "tm_purchase": go_time(self.tm_create),
            "tm_renew": go_time(self.tm_create),
            "tm_create": go_time(self.tm_create),
            "tm_update": None,
            "tm_delete": None,
        }


@dataclass
class Extension:
    id: str
    customer_id: str
    name: str
    detail: str
    extension: str
    password: str
    direct_hash: str
    registered: bool
    tm_create: dt.datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "name": self.name,
            "detail": self.detail,
            "extension": self.extension,
            "domain_name": self.customer_id,
            "username": self.extension,
            "password": self.password,
            "direct_hash": self.direct_hash,
            "tm_create": go_time(self.tm_create),
            "tm_update": None,
            "tm_delete": None,
        }


def action_json(action: dict[str, Any]) -> dict[str, Any]:
    """flow-manager Action: id/next_id always present, type/option omitempty, tm_execute nullable."""
    out: dict[str, Any] = {
        "id": action.get("id", ZERO_UUID),
        "next_id": action.get("next_id", ZERO_UUID),
    }
    if action.get("type"):
        out["type"] = action["type"]
    if action.get("option"):
        out["option"] = action["option"]
    tm_execute = action.get("tm_execute")
    out["tm_execute"] = go_time(tm_execute) if isinstance(tm_execute, dt.datetime) else None
    return out


@dataclass
class Call:
    id: str
    customer_id: str
    flow_id: str
    activeflow_id: str
    source: dict[str, str]
    destination: dict[str, str]
    tm_create: dt.datetime
    status: str = "dialing"
    type: str = "flow"
    direction: str = "outgoing"
    action: dict[str, Any] = field(
        default_factory=lambda: {"id": "00000000-0000-0000-0000-000000000001", "next_id": ZERO_UUID}
    )
    hangup_by: str = ""
    hangup_reason: str = ""
    tm_ringing: dt.datetime | None = None
    tm_progressing: dt.datetime | None = None
    tm_hangup: dt.datetime | None = None
    tm_update: dt.datetime | None = None
    tm_delete: dt.datetime | None = None
    # Internal only: the API object always shows the zero UUID here.
    groupcall_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "customer_id": self.customer_id,
            "owner_type": "",
            "owner_id": ZERO_UUID,
            "flow_id": self.flow_id,
            "activeflow_id": self.activeflow_id,
        }
        if self.type:
            out["type"] = self.type
        out["master_call_id"] = ZERO_UUID
        out["recording_id"] = ZERO_UUID
        out["groupcall_id"] = ZERO_UUID
        out["source"] = address_json(self.source)
        out["destination"] = address_json(self.destination)
        out["status"] = self.status
        out["action"] = action_json(self.action)
        out["direction"] = self.direction
        if self.hangup_by:
            out["hangup_by"] = self.hangup_by
        if self.hangup_reason:
            out["hangup_reason"] = self.hangup_reason
        _put_time(out, "tm_progressing", self.tm_progressing)
        _put_time(out, "tm_ringing", self.tm_ringing)
        _put_time(out, "tm_hangup", self.tm_hangup)
        _put_time(out, "tm_create", self.tm_create)
        _put_time(out, "tm_update", self.tm_update)
        _put_time(out, "tm_delete", self.tm_delete)
        return out


@dataclass
class Groupcall:
    id: str
    customer_id: str
    flow_id: str
    source: dict[str, str]
    destinations: list[dict[str, str]]
    call_ids: list[str]
    tm_create: dt.datetime
    status: str = "progressing"
    ring_method: str = "ring_all"
    answer_method: str = "hangup_others"
    answer_call_id: str = ZERO_UUID
    call_count: int = 0
    tm_update: dt.datetime | None = None
    tm_delete: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "customer_id": self.customer_id,
            "owner_type": "",
            "owner_id": ZERO_UUID,
            "status": self.status,
            "flow_id": self.flow_id,
            "source": address_json(self.source),
        }
        if self.destinations:
            out["destinations"] = [address_json(d) for d in self.destinations]
        out["master_call_id"] = ZERO_UUID
        out["master_groupcall_id"] = ZERO_UUID
        if self.ring_method:
            out["ring_method"] = self.ring_method
        if self.answer_method:
            out["answer_method"] = self.answer_method
        out["answer_call_id"] = self.answer_call_id
        if self.call_ids:
            out["call_ids"] = list(self.call_ids)
        out["answer_groupcall_id"] = ZERO_UUID
        if self.call_count:
            out["call_count"] = self.call_count
        _put_time(out, "tm_create", self.tm_create)
        _put_time(out, "tm_update", self.tm_update)
        _put_time(out, "tm_delete", self.tm_delete)
        return out


@dataclass
class Speaking:
    id: str
    customer_id: str
    reference_type: str
    reference_id: str
    language: str
    provider: str
    voice_id: str
    direction: str
    tm_create: dt.datetime
    status: str = "initiating"
    tm_update: dt.datetime | None = None
    tm_delete: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "customer_id": self.customer_id}
        if self.reference_type:
            out["reference_type"] = self.reference_type
        out["reference_id"] = self.reference_id
        for key in ("language", "provider", "voice_id", "direction", "status"):
            value = getattr(self, key)
            if value:
                out[key] = value
        _put_time(out, "tm_create", self.tm_create)
        _put_time(out, "tm_update", self.tm_update)
        _put_time(out, "tm_delete", self.tm_delete)
        return out


@dataclass
class Transcribe:
    id: str
    customer_id: str
    activeflow_id: str
    on_end_flow_id: str
    reference_type: str
    reference_id: str
    language: str
    direction: str
    provider: str
    tm_create: dt.datetime
    status: str = "progressing"
    tm_update: dt.datetime | None = None
    tm_delete: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "activeflow_id": self.activeflow_id,
            "on_end_flow_id": self.on_end_flow_id,
            "reference_type": self.reference_type,
            "reference_id": self.reference_id,
            "status": self.status,
            "language": self.language,
            "direction": self.direction,
            "provider": self.provider,
            "tm_create": go_time(self.tm_create),
            "tm_update": go_time_or_none(self.tm_update),
            "tm_delete": go_time_or_none(self.tm_delete),
        }


@dataclass
class Transcript:
    id: str
    customer_id: str
    transcribe_id: str
    direction: str
    message: str
    offset_seconds: float
    tm_create: dt.datetime
    tm_delete: dt.datetime | None = None
    # Which offset field(s) to write: the server code's ``tm_transcript``, the newer clients' ``offset_ms``.
    offset_field: str = "tm_transcript"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "customer_id": self.customer_id,
            "transcribe_id": self.transcribe_id,
            "direction": self.direction,
            "message": self.message,
        }
        if self.offset_field in ("tm_transcript", "both"):
            out["tm_transcript"] = offset_time(self.offset_seconds)
        if self.offset_field in ("offset_ms", "both"):
            out["offset_ms"] = round(self.offset_seconds * 1000)
        out["tm_create"] = go_time(self.tm_create)
        return out


def speech_json(
    *,
    event_id: str,
    customer_id: str,
    streaming_id: str,
    transcribe_id: str,
    direction: str,
    message: str,
    at: dt.datetime,
) -> dict[str, Any]:
    """Speech-activity payload (transcribe_speech_*); ``message`` is omitempty."""
    out: dict[str, Any] = {
        "id": event_id,
        "customer_id": customer_id,
        "streaming_id": streaming_id,
        "transcribe_id": transcribe_id,
        "direction": direction,
    }
    if message:
        out["message"] = message
    # The real processor stamps these with time.Now(): nanosecond precision (NOTES §F8).
    stamp = go_time_ns(at, time.perf_counter_ns())
    out["tm_event"] = stamp
    out["tm_create"] = stamp
    return out
