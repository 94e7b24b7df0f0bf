"""One VoIPBIN account as the console sees it: the REST client, the event channel, and who listens.

The account opens one WebSocket for all of its calls (VoIPBIN has no per-call channel worth having:
transcripts are keyed by their own ids) and keeps a short memory of recent events so that a session
which learns a new id (a groupcall leg, a transcribe) can catch up on what arrived before it knew to look.

Listeners are of two sorts. A plain listener (the event log, ``watch``) hears every frame. A routed
listener (a ``CallSession``) hears only the frames about ids it has claimed (its legs, its groupcall, its
transcribes), plus unrecognised frames, which have no id to route by: with many calls on one account,
each frame then costs one dictionary look-up instead of one ownership check per call.
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
# The same memory by id, for a session catching up on its own ids only: with many calls on one account,
# scanning every recent event of every call for each new id cost more than the events themselves.
# Interim speech is left out (never replayed: stale by the time an id is learnt), and a few dozen events
# per id cover what can come before a POST /calls answer or a transcribe's first event.
RECENT_PER_ID = 64


class AccountListener(Protocol):
    def on_event(self, event: Event) -> None: ...

    def on_connection(self, state: ConnectionState) -> None: ...


@dataclass(slots=True, eq=False)
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
        # Plain listeners hear every event; routed ones only those about the ids they claimed.
        self._broadcast: list[AccountListener] = []
        self._routes: dict[str, list[AccountListener]] = {}
        self._claims: dict[int, set[str]] = {}
        # Asked after each frame: True when someone waits for the loop (the console: a key press), and the
        # pump then lets it run (see _pump).
        self.input_waiting: Callable[[], bool] | None = None
        self._request_listeners: list[Callable[[RequestRecord], None]] = []
        self._recent: deque[Event] = deque(maxlen=RECENT_EVENTS)
        self._recent_by_id: dict[str, deque[tuple[int, Event]]] = {}
        self._remembered = 0
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

    def add_listener(self, listener: AccountListener, *, routed: bool = False) -> None:
        """``routed``: the listener hears only events about the ids it ``claim``s (and unrecognised ones)."""
        self._listeners.append(listener)
        if routed:
            self._claims.setdefault(id(listener), set())
        else:
            self._broadcast.append(listener)

    def remove_listener(self, listener: AccountListener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)
        with contextlib.suppress(ValueError):
            self._broadcast.remove(listener)
        for key in self._claims.pop(id(listener), ()):
            owners = self._routes.get(key)
            if owners is None:
                continue
            with contextlib.suppress(ValueError):
                owners.remove(listener)
            if not owners:
                del self._routes[key]

    def listen(
        self,
        on_event: Callable[[Event], None] | None = None,
        on_connection: Callable[[ConnectionState], None] | None = None,
        *,
        routed: bool = False,
    ) -> AccountListener:
        listener = _CallbackListener(on_event, on_connection)
        # One that wants no events (only connection changes) is routed with no claim: it hears none.
        self.add_listener(listener, routed=routed or on_event is None)
        return listener

    def claim(self, listener: AccountListener, *ids: str) -> None:
        """From now on, events about these ids (a call, a groupcall, a transcribe) reach ``listener``.

        Only for a routed listener still registered; claiming twice is harmless."""
        claimed = self._claims.get(id(listener))
        if claimed is None:
            return
        for key in ids:
            if not key or key in claimed:
                continue
            claimed.add(key)
            self._routes.setdefault(key, []).append(listener)

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

    def recent_events(self, since: float | None = None, ids: Iterable[str] | None = None) -> Iterable[Event]:
        """Recent non-duplicate events, oldest first (optionally only those received after ``since``, and
        only those about one of ``ids``, as ``route_keys`` names them)."""
        cutoff = time.time() - RECENT_SECONDS
        if since is not None:
            cutoff = max(cutoff, since)
        if ids is None:
            return [e for e in self._recent if e.received_at >= cutoff]
        picked: dict[int, Event] = {}
        for key in ids:
            for seq, event in self._recent_by_id.get(key, ()):
                if event.received_at >= cutoff:
                    picked[seq] = event
        return [picked[seq] for seq in sorted(picked)]

    def _remember(self, event: Event) -> None:
        self._recent.append(event)
        self._remembered += 1
        seq = self._remembered
        if event.speech is not None:
            return
        for key in route_keys(event):
            bucket = self._recent_by_id.get(key)
            if bucket is None:
                bucket = self._recent_by_id[key] = deque(maxlen=RECENT_PER_ID)
            bucket.append((seq, event))
        if seq % RECENT_EVENTS == 0:
            # Forget the ids nothing was heard about for longer than the memory lasts.
            cutoff = time.time() - RECENT_SECONDS
            for key in [k for k, b in self._recent_by_id.items() if b[-1][1].received_at < cutoff]:
                del self._recent_by_id[key]

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
        # A backlog of queued frames is read without a pause on purpose: yielding every few milliseconds
        # (measured) let every other task's work in between, and frames waited longer in the queue.
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
            self._remember(event)
        for listener in self._audience(event):
            try:
                listener.on_event(event)
            except Exception:
                log.exception("event listener failed on %s", event.event)

    def _audience(self, event: Event) -> list[AccountListener]:
        """Every plain listener, then the routed listeners that claimed one of the event's ids (once each)."""
        if event.kind == "unrecognised":
            return list(self._listeners)
        audience = list(self._broadcast)
        routes = self._routes
        if not routes:
            return audience
        seen: list[AccountListener] = []
        for key in route_keys(event):
            for listener in routes.get(key, ()):
                if listener not in seen:
                    seen.append(listener)
        return audience + seen


def route_keys(event: Event) -> tuple[str, ...]:
    """The ids an event is about, as a routed listener claims them."""
    if event.call is not None:
        return (event.call.id,)
    if event.groupcall is not None:
        return (event.groupcall.id,)
    if event.transcribe is not None:
        return (event.transcribe.id, event.transcribe.reference_id)
    if event.transcript is not None:
        return (event.transcript.transcribe_id,)
    if event.speech is not None:
        return (event.speech.transcribe_id,)
    return ()
