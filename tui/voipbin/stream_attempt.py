"""One attempt at the event stream's connection, and what it can come to.

``EventStream`` is the reconnect loop; this is what each turn of it works with: the errors a handshake
or a connection ends in, the ``Outcome`` of one connect attempt, the ``RunState`` carried between
attempts, the delay before the next one, abandoning a handshake that ``close()`` overtook, and reading
one whole message within a deadline, classified with the time it was read off the socket. Kept apart so
the loop reads as the policy it is.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
from dataclasses import dataclass
from typing import Any, Literal

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import DATA_OPCODES, Frame
from websockets.protocol import Event as WireEvent

from tui.voipbin.events import Event
from tui.voipbin.frames import classify_frame

#: Drops within this many seconds of subscribing are reported as a possible topic problem.
EARLY_DROP = 1.0


def backoff_delay(
    attempt: int,
    *,
    initial: float = 1.0,
    maximum: float = 30.0,
    jitter: float = 0.2,
    rng: random.Random | None = None,
) -> float:
    """Delay before reconnect ``attempt`` (1-based): ``initial`` doubling up to ``maximum``, ±``jitter``."""
    step = max(1, attempt)
    base = min(maximum, initial * (2.0 ** min(step - 1, 30)))
    if jitter <= 0:
        return base
    spread = (rng or random).uniform(-jitter, jitter)
    return max(0.0, base * (1.0 + spread))


class Fatal(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Retry(Exception):
    def __init__(self, message: str, min_delay: float = 0.0) -> None:
        super().__init__(message)
        self.message = message
        self.min_delay = min_delay


class Unauthorized(Exception):
    """The handshake was refused (401/403) or logging in for it failed."""

    def __init__(self, message: str, relogin: bool) -> None:
        super().__init__(message)
        self.message = message
        self.relogin = relogin


class Stalled(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(slots=True)
class Outcome:
    """What one connect attempt came to (``again``: logged in anew, retry without waiting)."""

    kind: Literal["connected", "retry", "unauthorized", "fatal", "closing", "again"]
    ws: ClientConnection | None = None
    error: str = ""
    min_delay: float = 0.0
    relogin: bool = False
    unauthorized: bool = False


@dataclass(slots=True)
class RunState:
    """What the reconnect loop remembers between attempts."""

    failures: int = 0
    relogged: bool = False
    had_connection: bool = False
    gap_started: float | None = None
    drop_error: str = ""


class StampedConnection(ClientConnection):
    """A client connection that notes when each whole message was read off the socket.

    That is an event's arrival: under load a message can wait in the connection's queue before the consumer
    gets to it, and that wait is the consumer's delay, not the network's (see ``arrival``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrivals: collections.deque[float] = collections.deque()

    def process_event(self, event: WireEvent) -> None:
        # A message ends with its one final data frame (control frames are not messages).
        if isinstance(event, Frame) and event.fin and event.opcode in DATA_OPCODES:
            self.arrivals.append(time.monotonic())
        super().process_event(event)


def arrival(ws: ClientConnection) -> float:
    """When the message just received was read off the socket (now, for a connection that does not say)."""
    arrivals = getattr(ws, "arrivals", None)
    return arrivals.popleft() if arrivals else time.monotonic()


def classify_received(ws: ClientConnection, message: str | bytes) -> Event:
    """The message just received, classified and stamped with when it was read off the socket."""
    mono = arrival(ws)
    return classify_frame(message, received_at=time.time() - (time.monotonic() - mono), received_mono=mono)


async def receive_message(ws: ClientConnection, deadline: float) -> str | bytes:
    """One whole message; once it has started, the rest must follow within ``deadline`` seconds.

    Keepalive pings cannot tell a server that sends one fragment and then only pongs from a healthy
    one: without this the header would say "connected" while nothing ever arrives.
    """
    fragments = ws.recv_streaming()
    first = await anext(fragments)
    parts = [first]
    if getattr(ws, "arrivals", None):
        # The connection has already read this message's final frame (stamps are taken in order, one per
        # whole message): the rest is in memory, so nothing can stall and no deadline timer is needed.
        # That is nearly every message, hundreds a second with many calls.
        async for part in fragments:
            parts.append(part)
        return _joined(parts)
    try:
        async with asyncio.timeout(deadline):
            async for part in fragments:
                parts.append(part)
    except TimeoutError:
        raise Stalled(f"a message was started but not finished within {deadline:g} s; reconnecting") from None
    return _joined(parts)


def _joined(parts: list[str | bytes]) -> str | bytes:
    first = parts[0]
    if len(parts) == 1:
        return first
    if isinstance(first, str):
        return "".join(p for p in parts if isinstance(p, str))
    return b"".join(p for p in parts if isinstance(p, bytes))


_PENDING_CLOSES: set[asyncio.Future[None]] = set()


def abandon(task: asyncio.Future[ClientConnection]) -> None:
    """Cancel a pending connect; close the socket if it completes anyway."""

    def _cleanup(done: asyncio.Future[ClientConnection]) -> None:
        if done.cancelled() or done.exception() is not None:
            return
        closing = asyncio.ensure_future(done.result().close())
        _PENDING_CLOSES.add(closing)
        closing.add_done_callback(_PENDING_CLOSES.discard)

    task.cancel()
    task.add_done_callback(_cleanup)


def describe_drop(exc: ConnectionClosed, since_subscribe: float, subscribed: bool) -> str:
    """Why the connection dropped, in words (not yet redacted: the close reason is the server's text)."""
    rcvd = exc.rcvd
    if rcvd is None:
        text = f"connection lost without a close frame (1006; {exc})"
    else:
        text = f"closed by the server ({rcvd.code} {rcvd.reason})".strip()
    if since_subscribe < EARLY_DROP and subscribed:
        text += "; right after subscribing (an invalid topic makes the server drop the socket)"
    return text
