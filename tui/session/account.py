"""One VoIPBIN account as the console sees it: the REST client, the event channel, and who listens.

The account opens one WebSocket for all of its calls (VoIPBIN has no per-call channel worth having:
transcripts are keyed by their own ids), fans every classified frame out to its listeners, and keeps a
short memory of recent events so that a session which learns a new id (a groupcall leg, a transcribe)
can catch up on what arrived before it knew to look.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from tui.voipbin.events import ConnectionState, Event
from tui.voipbin.models import Customer, Extension, Number
from tui.voipbin.rest import RequestRecord, VoipbinClient
from tui.voipbin.stream import EventStream, subscriptions_for

log = logging.getLogger(__name__)

# At most this many loop turns given to waiting input between two frames of the event pump.
INPUT_YIELDS = 8

# Events kept for late claimers: long enough for a POST /calls round trip or a slow transcribe start.
RECENT_EVENTS = 1000
RECENT_SECONDS = 120.0


class AccountListener(Protocol):
    def on_event(self, event: Event) -> None: ...

    def on_connection(self, state: ConnectionState) -> None: ...


@dataclass(slots=True)
class _CallbackListener:
    event: Callable[[Event], None] | None = None
    connection: Callable[[ConnectionState], None] | None = None

    def on_event(self, event: Event) -> None:
        if self.event is not None:
            self.event(event)

    def on_connection(self, state: ConnectionState) -> None:
        if self.connection is not None:
            self.connection(state)


class Account:
    """Owns a VoipbinClient and its EventStream; start() before use, close() at the end."""

    def __init__(
        self,
        client: VoipbinClient,
        *,
        ping_interval: float = 5.0,
        ping_timeout: float = 10.0,
        label: str = "",
        **stream_options: Any,
    ) -> None:
        self.client = client
        self.label = label
        self.customer: Customer | None = None
        self.connection: ConnectionState | None = None
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        # Passed through to EventStream (backoff_initial, jitter, …): tests and benchmarks shorten them.
        self._stream_options = stream_options
        self._listeners: list[AccountListener] = []
        # Asked after each frame: True when someone waits for the loop (the console: a key press), and the
        # pump then lets it run (see _pump).
        self.input_waiting: Callable[[], bool] | None = None
        self._request_listeners: list[Callable[[RequestRecord], None]] = []
        self._recent: deque[Event] = deque(maxlen=RECENT_EVENTS)
        self._stream: EventStream | None = None
        self._task: asyncio.Task[None] | None = None
        self._numbers: list[Number] | None = None
        self._extensions: list[Extension] | None = None
        self.frames_seen = 0
        self.duplicates_seen = 0
        self.unrecognised_seen = 0
        self._connected = asyncio.Event()
        client.on_request = self._on_request

    # -- lifecycle --------------------------------------------------------------------------------------

    @property
    def customer_id(self) -> str:
        if self.customer is None:
            raise RuntimeError("account not started")
        return self.customer.id

    async def start(self, *, wait_connected: float | None = 5.0) -> None:
        """Fetch the customer, open the event channel, and (optionally) wait until it is subscribed."""
        self.customer = await self.client.get_customer()
        self._stream = EventStream.from_client(
            self.client,
            subscriptions_for(self.customer.id),
            ping_interval=self._ping_interval,
            ping_timeout=self._ping_timeout,
            **self._stream_options,
        )
        self._task = asyncio.create_task(self._pump(self._stream), name="voipbin-events")
        if wait_connected:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._connected.wait(), wait_connected)

    async def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            await stream.close()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.client.aclose()

    # -- listeners --------------------------------------------------------------------------------------

    def add_listener(self, listener: AccountListener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: AccountListener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def listen(
        self,
        on_event: Callable[[Event], None] | None = None,
        on_connection: Callable[[ConnectionState], None] | None = None,
    ) -> AccountListener:
        listener = _CallbackListener(on_event, on_connection)
        self.add_listener(listener)
        return listener

    def add_request_listener(self, listener: Callable[[RequestRecord], None]) -> None:
        self._request_listeners.append(listener)

    def remove_request_listener(self, listener: Callable[[RequestRecord], None]) -> None:
        with contextlib.suppress(ValueError):
            self._request_listeners.remove(listener)

    def _on_request(self, record: RequestRecord) -> None:
        for listener in list(self._request_listeners):
            try:
                listener(record)
            except Exception:
                log.exception("request listener failed")

    def recent_events(self, since: float | None = None) -> Iterable[Event]:
        """Recent non-duplicate events, oldest first (optionally only those received after ``since``)."""
        cutoff = time.time() - RECENT_SECONDS
        if since is not None:
            cutoff = max(cutoff, since)
        return [e for e in self._recent if e.received_at >= cutoff]

    # -- cached lookups for the dial form -----------------------------------------------------------------

    async def numbers(self, refresh: bool = False) -> list[Number]:
        if self._numbers is None or refresh:
            self._numbers = await self.client.all_numbers()
        return self._numbers

    async def extensions(self, refresh: bool = False) -> list[Extension]:
        if self._extensions is None or refresh:
            self._extensions = await self.client.all_extensions()
        return self._extensions

    # -- the pump ---------------------------------------------------------------------------------------

    async def _pump(self, stream: EventStream) -> None:
        try:
            async for item in stream.events():
                if isinstance(item, ConnectionState):
                    self._on_connection(item)
                else:
                    self._on_event(item)
                waiting = self.input_waiting
                if waiting is not None and waiting():
                    # Buffered frames come out of the stream without a suspension: in a burst one step of
                    # this task ran 35-67 ms while a key press waited. Yielding on every frame (or every few
                    # ms) instead costs so many extra repaints that the console falls behind at 6000/s.
                    for _ in range(INPUT_YIELDS):
                        await asyncio.sleep(0)
                        if not waiting():
                            break
        except asyncio.CancelledError:
            raise
        except Exception:  # pragma: no cover - a bug in the stream must not kill the app silently
            log.exception("event stream stopped")
            self._on_connection(ConnectionState(state="closed", error="event stream failed (see log)", fatal=True))

    def _on_connection(self, state: ConnectionState) -> None:
        self.connection = state
        if state.state in ("connected", "reconnected"):
            self._connected.set()
        else:
            self._connected.clear()
        for listener in list(self._listeners):
            try:
                listener.on_connection(state)
            except Exception:
                log.exception("connection listener failed")

    def _on_event(self, event: Event) -> None:
        self.frames_seen += 1
        if event.duplicate:
            self.duplicates_seen += 1
        elif event.kind == "unrecognised":
            self.unrecognised_seen += 1
        else:
            self._recent.append(event)
        for listener in list(self._listeners):
            try:
                listener.on_event(event)
            except Exception:
                log.exception("event listener failed on %s", event.event)
