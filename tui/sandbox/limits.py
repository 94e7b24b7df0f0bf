"""The sandbox as a server that a stranger can reach: bounded connections, headers and bodies.

uvicorn bounds the size of a request head (``h11_max_incomplete_event_size``) and closes idle
keep-alive connections, but it has no deadline for a request head that trickles in (slowloris) and no
cap on open connections: past the process's open-file limit ``accept()`` fails over and over. The HTTP
protocol here adds both; :class:`BodyLimit` reads request bodies bounded in size and time.
"""

from __future__ import annotations

import asyncio
import resource
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from tui.sandbox import errors
from tui.sandbox.encoding import dumps
from tui.sandbox.settings import SandboxSettings


@dataclass
class ServerStats:
    """What the server-side bounds have done, for tests and ``stats()``."""

    connections_refused: int = 0
    header_timeouts: int = 0
    bodies_refused: int = 0


# File descriptors kept free for the listener, log files, the event loop and the simulator itself.
FD_RESERVE = 64
# Of those, what the process holds besides connections; the rest is room for one batch of accepts.
FD_OWN = 32
_HEAD_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 25\r\nconnection: close\r\n\r\nRequest head is too large"
)
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 20\r\nconnection: close\r\n\r\nToo many connections"
)


def connection_cap(requested: int) -> int:
    """``requested``, lowered so the cap always stays below the open-file limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return requested
    return max(1, min(requested, int(soft) - FD_RESERVE))


def listen_backlog(requested: int, cap: int) -> int:
    """``requested``, lowered so one batch of accepts fits in the descriptors the cap leaves free.

    asyncio accepts up to the backlog's worth of waiting connections in one go, before any of them is
    counted against the cap; a batch larger than what is free fails with EMFILE, and asyncio then logs
    and retries once per socket still waiting.
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return requested
    return max(1, min(requested, int(soft) - cap - FD_OWN))


def http_protocol(settings: SandboxSettings, stats: ServerStats, cap: int) -> type[H11Protocol]:
    """An ``H11Protocol`` subclass bound to these settings and the connection cap (see ``connection_cap``);
    uvicorn takes a class, not an instance."""
    header_timeout = settings.header_timeout
    max_head = settings.max_header_bytes

    class SandboxHTTPProtocol(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            if len(self.server_state.connections) >= cap:
                # Refuse at once: the socket is closed before it can pile up with the others.
                stats.connections_refused += 1
                transport.write(_BUSY)
                transport.close()
                self.transport = transport
                self._head_timer: asyncio.TimerHandle | None = None
                self._refused = True
                return
            self._refused = False
            super().connection_made(transport)
            self._seen_cycle: object = None
            self._head_timer = None
            self._head_bytes = 0
            self._arm_head_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_head_timer()
            if self._refused:
                return
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            if self._head_timer is not None:
                # h11 bounds a head that arrives in pieces, not one that arrives in a single read.
                end = data.find(b"\r\n\r\n")
                self._head_bytes += len(data) if end < 0 else end + 4
                if self._head_bytes > max_head:
                    self._cancel_head_timer()
                    self.transport.write(_HEAD_TOO_LARGE)
                    self.transport.close()
                    return
            super().data_received(data)
            if self.cycle is not None and self.cycle is not self._seen_cycle:
                # A complete request head arrived: its body has its own deadline (read_body).
                self._seen_cycle = self.cycle
                self._cancel_head_timer()

        def handle_websocket_upgrade(self, event: Any) -> None:
            self._cancel_head_timer()
            super().handle_websocket_upgrade(event)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                # The next request head on this keep-alive connection gets the same deadline.
                self._arm_head_timer()

        def _arm_head_timer(self) -> None:
            self._cancel_head_timer()
            self._head_bytes = 0
            self._head_timer = self.loop.call_later(header_timeout, self._head_timeout)

        def _cancel_head_timer(self) -> None:
            timer = getattr(self, "_head_timer", None)
            if timer is not None:
                timer.cancel()
                self._head_timer = None

        def _head_timeout(self) -> None:
            self._head_timer = None
            if self.cycle is not None and self.cycle is not self._seen_cycle:
                return
            if self.cycle is not None and not self.cycle.response_complete:
                return
            stats.header_timeouts += 1
            if not self.transport.is_closing():
                self.transport.close()

    return SandboxHTTPProtocol


def too_large(limit: int) -> errors.ApiError:
    return errors.ApiError(
        "INVALID_ARGUMENT",
        "REQUEST_BODY_TOO_LARGE",
        f"The request body exceeds the sandbox's limit of {limit} bytes.",
        http_override=413,
    )


def body_timeout() -> errors.ApiError:
    return errors.ApiError(
        "INVALID_ARGUMENT", "REQUEST_TIMEOUT", "The request body did not arrive in time.", http_override=408
    )


class BodyTooLarge(Exception):
    pass


async def read_body(receive: Any, limit: int, deadline: float) -> bytes:
    """The whole request body, or :class:`BodyTooLarge` / ``TimeoutError`` as soon as a bound is hit."""
    chunks: list[bytes] = []
    size = 0
    async with asyncio.timeout(deadline):
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
    return b"".join(chunks)


def envelope_bytes(error: errors.ApiError, request_id: str) -> bytes:
    return dumps(error.envelope(request_id)).encode()
