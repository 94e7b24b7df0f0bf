"""A uvicorn WebSocket protocol that exposes what ASGI cannot: pings, pongs and a silent TCP drop.

The real server (gorilla/websocket) pings every 10 s on its own schedule, extends the read deadline only
when a pong arrives, and on errors closes the TCP connection without a close frame. ASGI has no
messages for any of that, so the sandbox's WebSocket endpoint reaches the connection through a scope
extension this subclass adds, and writes frames to it directly (no per-frame ASGI round trip).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame

SCOPE_EXTENSION = "tui.sandbox.ws"


class SandboxWSProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-io websockets protocol plus direct frame access for the sandbox."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_pong: Callable[[], None] | None = None
        self.on_writable: Callable[[], None] | None = None

    async def run_asgi(self) -> None:
        self.scope["extensions"][SCOPE_EXTENSION] = {"protocol": self}
        await super().run_asgi()

    def handle_pong(self, event: Frame) -> None:
        if self.on_pong is not None:
            self.on_pong()
        super().handle_pong(event)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.on_writable is not None:
            self.on_writable()

    # --- direct access used by the sandbox connection ------------------------------------------

    @property
    def open(self) -> bool:
        return (
            self.handshake_complete
            and not self.close_sent
            and not self.disconnected
            and not self.transport.is_closing()
        )

    @property
    def can_write(self) -> bool:
        return self.writable.is_set()

    def write_text(self, data: bytes) -> None:
        self.conn.send_text(data)
        self.transport.write(b"".join(self.conn.data_to_send()))

    def write_ping(self) -> None:
        self.conn.send_ping(b"")
        self.transport.write(b"".join(self.conn.data_to_send()))

    def drop(self) -> None:
        """Close the TCP connection without a close frame (the client sees 1006)."""
        if not self.transport.is_closing():
            self.transport.close()
