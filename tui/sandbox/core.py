"""The sandbox's state and services, independent of HTTP: what the routes and the control API drive."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from tui.sandbox.auth import Authenticator
from tui.sandbox.calls import CallEngine
from tui.sandbox.clock import SimClock
from tui.sandbox.faults import FaultRequest, FaultState
from tui.sandbox.groupcalls import GroupcallService
from tui.sandbox.limits import ServerStats
from tui.sandbox.pubsub import Broker
from tui.sandbox.seed import load_seed
from tui.sandbox.settings import SandboxSettings
from tui.sandbox.speakings import SpeakingService
from tui.sandbox.speech import SpeechHub
from tui.sandbox.store import Store
from tui.sandbox.timeline import Timeline
from tui.sandbox.transcription import TranscriptionService
from tui.sandbox.websocket import WsStats

if TYPE_CHECKING:
    from tui.sandbox.sip.service import SipService
    from tui.sandbox.websocket import Connection

log = logging.getLogger("tui.sandbox")


class SandboxCore:
    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.clock = SimClock(settings.effective_speed)
        self.rng = random.Random(settings.random_seed)
        self.store = Store()
        self.timeline = Timeline(self.store)
        seed = load_seed(settings, self.store)
        self.customer_id = seed.customer_id
        self.accesskey = seed.accesskey
        self.auth = Authenticator(
            secret=seed.jwt_secret,
            customer_id=seed.customer_id,
            agent=seed.agent,
            username=settings.username,
            password=settings.password,
            accesskey=seed.accesskey,
            accesskey_created=self.store.stamp(),
        )
        self.broker = Broker(
            frame_shape=settings.frame_shape,
            reorder=settings.reorder,
            jitter_ms=settings.reorder_jitter_ms,
            rng=self.rng,
        )
        self.faults = FaultState()
        self.ws_stats = WsStats()
        self.server_stats = ServerStats()
        self.connections: set[Connection] = set()
        self.speech = SpeechHub(self)
        self.transcription = TranscriptionService(self)
        self.calls = CallEngine(self)
        self.groupcalls = GroupcallService(self)
        self.speakings = SpeakingService(self)
        # Set by the server when the SIP side runs (tui.sandbox.sip is only imported then).
        self.sip: SipService | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self.closed = False

    # --- plumbing shared by the services -------------------------------------------------------

    def publish(self, event_type: str, payload: dict[str, Any]) -> None:
        self.timeline.record(event_type, payload)
        self.broker.publish(self.customer_id, event_type, payload)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("sandbox task failed", exc_info=task.exception())

    def later(self, sim_seconds: float, callback: Callable[..., Any], *args: Any) -> asyncio.TimerHandle:
        """A tracked, speed-scaled timer whose callback errors are logged, never raised."""
        handle: asyncio.TimerHandle | None = None

        def fire() -> None:
            if handle is not None:
                self._timers.discard(handle)
            try:
                callback(*args)
            except Exception:
                log.exception("sandbox timer failed")

        handle = self.clock.call_later(sim_seconds, fire)
        self._timers.add(handle)
        return handle

    # --- faults --------------------------------------------------------------------------------

    def apply_faults(self, request: FaultRequest) -> None:
        if request.reset:
            self.faults = FaultState()
        updates = request.updates or {}
        for key, value in updates.items():
            setattr(self.faults, key, value)
        if updates.get("expire_tokens") is True:
            # Everything issued up to now counts as expired; later logins are fine.
            self.auth.expired_before = dt.datetime.now(dt.UTC)
        elif not self.faults.expire_tokens:
            self.auth.expired_before = None
        self.broker.reorder = self.settings.reorder if self.faults.reorder is None else self.faults.reorder
        self.broker.frame_shape = self.faults.frame_shape or self.settings.frame_shape
        if request.drop_websockets:
            self.drop_websockets()

    def drop_websockets(self) -> int:
        dropped = 0
        for connection in list(self.connections):
            connection.drop()
            dropped += 1
        return dropped

    # --- lifecycle and stats -------------------------------------------------------------------

    def shutdown(self) -> None:
        """Cancel every simulation task and timer and cut every WebSocket."""
        self.closed = True
        self.broker.cancel_pending()
        for handle in list(self._timers):
            handle.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
        self.drop_websockets()

    async def wait_tasks(self, timeout: float) -> None:
        pending = [t for t in self._tasks if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    def stats(self) -> dict[str, Any]:
        ws = self.ws_stats
        live = sum(1 for c in self.store.calls.values() if c.status != "hangup")
        return {
            "timer_lateness": self.clock.lateness.summary(),
            "ping_lateness": ws.ping_lateness.summary(),
            "pings_sent": ws.pings_sent,
            "pings_late": ws.pings_late,
            "pings_missed": ws.pong_timeouts,
            "frames_sent": ws.frames_sent,
            "frames_dropped": ws.frames_dropped,
            "frames_enqueued": self.broker.frames_enqueued,
            "events_published": self.broker.events_published,
            "websockets_open": len(self.connections),
            "websockets_total": ws.connections_total,
            "live_calls": live,
            "calls_total": len(self.store.calls),
            "tasks": len(self._tasks),
            "connections_refused": self.server_stats.connections_refused,
            "header_timeouts": self.server_stats.header_timeouts,
            "bodies_refused": self.server_stats.bodies_refused,
        }
