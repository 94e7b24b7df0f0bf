"""One attempt at the event stream's connection, and what it can come to.

``EventStream`` is the reconnect loop; this is what each turn of it works with: the errors a handshake
or a connection ends in, the ``Outcome`` of one connect attempt, the ``RunState`` carried between
attempts, the delay before the next one, abandoning a handshake that ``close()`` overtook, and reading
one whole message within a deadline. Kept apart so the loop reads as the policy it is.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Literal

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

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


async def receive_message(ws: ClientConnection, deadline: float) -> str | bytes:
    """One whole message; once it has started, the rest must follow within ``deadline`` seconds.

    Keepalive pings cannot tell a server that sends one fragment and then only pongs from a healthy
    one: without this the header would say "connected" while nothing ever arrives.
    """
    fragments = ws.recv_streaming()
    first = await anext(fragments)
    parts = [first]
    try:
        async with asyncio.timeout(deadline):
            async for part in fragments:
                parts.append(part)
    except TimeoutError:
        raise Stalled(f"a message was started but not finished within {deadline:g} s; reconnecting") from None
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
