"""The one way a session turns a VoIPBIN error into a notice, so every part reports it alike."""

from __future__ import annotations

from tui.session.updates import Notice
from tui.voipbin.errors import VoipbinError


def error_notice(what: str, exc: VoipbinError) -> Notice:
    return Notice("error", f"{what}: {exc}", hint=exc.hint(), request_id=exc.request_id, reason=exc.reason)
