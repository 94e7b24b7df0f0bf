"""Reading a POST /calls body as VoIPBIN's flow-manager does: addresses, inline actions, variables, and
the options an action carries. Kept apart from the call engine: this is the request's shape and its
limits, the engine is what the call then does.
"""

from __future__ import annotations

from typing import Any

from tui.sandbox import errors
from tui.sandbox.encoding import new_id, uuid_or_nil
from tui.sandbox.requests import field_value, opt_str

# Every action type flow-manager accepts (anything else is INVALID_ACTION_TYPE).
ACTION_TYPES = frozenset(
    (
        "amd",
        "answer",
        "ai_summary",
        "ai_talk",
        "ai_task",
        "beep",
        "block",
        "branch",
        "call",
        "case_create",
        "condition_call_digits",
        "condition_call_status",
        "condition_datetime",
        "condition_variable",
        "confbridge_join",
        "conference_join",
        "connect",
        "conversation_send",
        "digits_receive",
        "digits_send",
        "echo",
        "email_send",
        "external_media_start",
        "external_media_stop",
        "fetch",
        "fetch_flow",
        "goto",
        "hangup",
        "message_send",
        "mute",
        "play",
        "queue_join",
        "recording_start",
        "recording_stop",
        "sleep",
        "stop",
        "stream_echo",
        "talk",
        "transcribe_start",
        "transcribe_stop",
        "transcribe_recording",
        "variable_set",
        "webhook_send",
    )
)
# Actions flow-manager hands to call-manager (each becomes the call's `action` -> call_updated).
MEDIA_ACTION_TYPES = frozenset(
    (
        "amd",
        "answer",
        "beep",
        "confbridge_join",
        "digits_receive",
        "digits_send",
        "echo",
        "external_media_start",
        "external_media_stop",
        "hangup",
        "play",
        "recording_start",
        "recording_stop",
        "sleep",
        "stream_echo",
        "talk",
    )
)
_ADDRESS_KEYS = ("type", "target", "target_name", "name", "detail")


def parse_address(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise errors.invalid_json_body()
    out: dict[str, str] = {}
    for key in _ADDRESS_KEYS:
        text = opt_str(value, key)
        if text:
            out[key] = text
    return out


def parse_actions(value: Any) -> list[dict[str, Any]]:
    """Decode inline actions; ids are generated when missing, like flow-manager does."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise errors.invalid_json_body()
    actions: list[dict[str, Any]] = []
    for item in value:
        if not isinstance(item, dict):
            raise errors.invalid_json_body()
        option = field_value(item, "option")
        if option is not None and not isinstance(option, dict):
            raise errors.invalid_json_body()
        action_id = uuid_or_nil(opt_str(item, "id"))
        next_id = uuid_or_nil(opt_str(item, "next_id"))
        actions.append(
            {
                "id": str(action_id) if action_id.int else new_id(),
                "next_id": str(next_id),
                "type": opt_str(item, "type") or "",
                "option": option or {},
            }
        )
    return actions


def parse_variables(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise errors.invalid_json_body()
    variables: dict[str, str] = value
    if len(variables) > 100:
        raise errors.invalid_variables("too many variables (max 100)")
    total = 0
    for key, item in variables.items():
        if len(item.encode()) > 32 * 1024:
            raise errors.invalid_variables("variable value exceeds 32KB")
        total += len(key.encode()) + len(item.encode())
    if total > 64 * 1024:
        raise errors.invalid_variables("variables total size exceeds 64KB")
    return variables


def int_option(option: dict[str, Any], key: str) -> int:
    value = option.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return value


def str_option(option: dict[str, Any], key: str) -> str:
    value = option.get(key)
    return value if isinstance(value, str) else ""
