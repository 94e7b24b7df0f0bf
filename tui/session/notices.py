"""The one way a session turns a VoIPBIN error into a notice, so every part reports it alike."""

from __future__ import annotations

from tui.session.updates import Notice
from tui.voipbin.errors import VoipbinError


def said(exc: VoipbinError) -> str:
    """The error's line without its request id: a notice carries that id in a field of its own."""
    text = str(exc)
    return text.replace(f" [request_id {exc.request_id}]", "") if exc.request_id else text


def error_notice(what: str, exc: VoipbinError) -> Notice:
    return Notice("error", f"{what}: {said(exc)}", hint=exc.hint(), request_id=exc.request_id, reason=exc.reason)
