"""The header names a refused credential instead of a plain reconnect count."""

from __future__ import annotations

from tui.ui.widgets.header import ConsoleHeader


def test_the_header_says_unauthorized_retrying_then_connected_again() -> None:
    header = ConsoleHeader("service")
    header.set_channel("reconnecting", 3, "handshake refused (401)", unauthorized=True)
    assert header.channel_text == "unauthorized, retrying"
    header.set_channel("reconnected", 0)
    assert header.channel_text == "connected"
    header.set_channel("reconnecting", 2, "connection lost")
    assert header.channel_text == "reconnecting 2"
