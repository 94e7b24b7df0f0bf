"""Event fan-out to WebSocket subscribers: topics, prefix matching and frame shapes.

Every event is published under the "old" topic ``customer_id:<cid>:<res>:<id>`` and the "new" topic
``customer_id:<cid>:<res>:<event_type>:<id>`` (plus ``agent_id:`` forms when the payload has an owner),
where ``<res>`` is the event type up to its first underscore. A subscriber receives one copy per
*published topic* that one of its subscribed strings is a plain prefix of, so broad prefixes that
match both forms see every event twice, exactly as on the real server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Iterable
from typing import Any, Protocol

from tui.sandbox.encoding import ZERO_UUID, dumps, token_time
from tui.sandbox.settings import FrameShape


class Subscriber(Protocol):
    def deliver(self, frame: bytes) -> None:
        """Queue one text frame without blocking."""


def topics_for(customer_id: str, event_type: str, resource_id: str, owner_id: str | None) -> list[str]:
    resource = event_type.split("_", 1)[0]
    topics = [
        f"customer_id:{customer_id}:{resource}:{resource_id}",
        f"customer_id:{customer_id}:{resource}:{event_type}:{resource_id}",
    ]
    if owner_id and owner_id != ZERO_UUID:
        topics.append(f"agent_id:{owner_id}:{resource}:{resource_id}")
        topics.append(f"agent_id:{owner_id}:{resource}:{event_type}:{resource_id}")
    return topics


class Broker:
    """Prefix index of subscriptions; serialises each event once per frame shape."""

    def __init__(self, *, frame_shape: FrameShape, reorder: bool, jitter_ms: float, rng: random.Random):
        self.frame_shape: FrameShape = frame_shape
        self.reorder = reorder
        self.jitter_ms = jitter_ms
        self._rng = rng
        # subscribed string -> subscribers; lengths of the subscribed strings (with counts), so a
        # published topic is matched by a handful of dict lookups instead of a scan of every prefix.
        self._index: dict[str, set[Subscriber]] = {}
        self._lengths: dict[int, int] = {}
        self.events_published = 0
        self.frames_enqueued = 0
        self._pending: set[asyncio.TimerHandle] = set()

    # --- subscriptions -------------------------------------------------------------------------

    def subscribe(self, subscriber: Subscriber, topic: str) -> None:
        holders = self._index.get(topic)
        if holders is None:
            holders = self._index[topic] = set()
            self._lengths[len(topic)] = self._lengths.get(len(topic), 0) + 1
        holders.add(subscriber)

    def unsubscribe(self, subscriber: Subscriber, topic: str) -> None:
        holders = self._index.get(topic)
        if holders is None:
            return
        holders.discard(subscriber)
        if not holders:
            del self._index[topic]
            remaining = self._lengths[len(topic)] - 1
            if remaining:
                self._lengths[len(topic)] = remaining
            else:
                del self._lengths[len(topic)]

    def remove(self, subscriber: Subscriber, topics: Iterable[str]) -> None:
        for topic in list(topics):
            self.unsubscribe(subscriber, topic)

    def matching(self, topic: str) -> set[Subscriber]:
        found: set[Subscriber] = set()
        for length in self._lengths:
            if length <= len(topic):
                holders = self._index.get(topic[:length])
                if holders:
                    found |= holders
        return found

    # --- publishing ----------------------------------------------------------------------------

    def publish(self, customer_id: str, event_type: str, payload: dict[str, Any]) -> None:
        self.events_published += 1
        if not self._index:
            return
        owner = payload.get("owner_id")
        topics = topics_for(customer_id, event_type, str(payload.get("id", "")), owner)
        deliveries: list[tuple[Subscriber, str]] = []
        for topic in topics:
            for subscriber in self.matching(topic):
                deliveries.append((subscriber, topic))
        if not deliveries:
            return
        frames = self._frames(event_type, payload, {topic for _, topic in deliveries})
        batch = [(subscriber, frames[topic]) for subscriber, topic in deliveries]
        if self.reorder and self.jitter_ms > 0:
            # Each event is handled on its own in the real server, so whole events overtake each
            # other; the copies of one event stay together.
            loop = asyncio.get_running_loop()
            delay = self._rng.uniform(0.0, self.jitter_ms) / 1000.0
            handle: asyncio.TimerHandle | None = None

            def fire() -> None:
                if handle is not None:
                    self._pending.discard(handle)
                self._send(batch)

            handle = loop.call_later(delay, fire)
            self._pending.add(handle)
        else:
            self._send(batch)

    def _frames(self, event_type: str, payload: dict[str, Any], topics: set[str]) -> dict[str, bytes]:
        shape = self.frame_shape
        if shape == "bare":
            frame = dumps(payload).encode()
            return dict.fromkeys(topics, frame)
        if shape == "wrapped":
            frame = dumps({"type": event_type, "data": payload}).encode()
            return dict.fromkeys(topics, frame)
        # The documented envelope names its topic, so it differs per published topic.
        timestamp = token_time(dt.datetime.now(dt.UTC))
        return {
            topic: dumps({"event_type": event_type, "timestamp": timestamp, "topic": topic, "data": payload}).encode()
            for topic in topics
        }

    def _send(self, batch: list[tuple[Subscriber, bytes]]) -> None:
        for subscriber, frame in batch:
            self.frames_enqueued += 1
            subscriber.deliver(frame)

    def cancel_pending(self) -> None:
        for handle in self._pending:
            handle.cancel()
        self._pending.clear()
