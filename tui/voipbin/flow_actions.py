"""Builders of the flow actions ``POST /calls`` takes (``{"type": …, "option": {…}}``)."""

from __future__ import annotations

from typing import Any


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def talk_action(
    text: str,
    *,
    language: str | None = None,
    provider: str | None = None,
    voice_id: str | None = None,
    async_: bool | None = None,
) -> dict[str, Any]:
    """A ``talk`` action for ``POST /calls`` (TTS played on the call, blocks the flow until played)."""
    option = _drop_none(
        {"text": text, "language": language, "provider": provider, "voice_id": voice_id, "async": async_}
    )
    return {"type": "talk", "option": option}


def transcribe_start_action(
    language: str = "en-US", *, direction: str | None = None, provider: str | None = None
) -> dict[str, Any]:
    """A ``transcribe_start`` action (runs in flow-manager; failures are ignored by the server)."""
    option = _drop_none({"language": language, "direction": direction, "provider": provider})
    return {"type": "transcribe_start", "option": option}


def sleep_action(duration_ms: int) -> dict[str, Any]:
    """A ``sleep`` action; ``duration_ms`` in milliseconds keeps the call alive."""
    return {"type": "sleep", "option": {"duration": int(duration_ms)}}


def hangup_action(reason: str | None = None) -> dict[str, Any]:
    """A ``hangup`` action."""
    return {"type": "hangup", "option": _drop_none({"reason": reason})}
