"""De-duplicate events and name what a bare frame cannot say.

:class:`EventNamer` is the stateful step after :func:`~tui.voipbin.frames.classify_frame`.

Duplicates
    The real server delivers byte-identical payloads twice on broad
    subscriptions (2- and 3-segment topics), and a reconnect can repeat events.
    The key is (kind, canonical JSON of the resource payload), so the same
    payload arriving bare and wrapped is still one event. Duplicates are
    **marked** (``duplicate=True``), not dropped: the raw event log can still
    show them; consumers skip them. The memory is a bounded LRU (50 000 keys by
    default). A duplicate carries the name its first copy got.

Names
    * A bare call frame whose status was already seen for that call is
      ``call_updated`` (the server emits a status-named event only on a status
      change; later frames with the same status are ``call_updated``, e.g. a new
      media action). Exception: ``call_deleted`` (``tm_delete`` set) keeps its name.
    * A message-less bare speech frame is ``transcribe_speech_started`` when its
      ``streaming_id`` has no open utterance and ``transcribe_speech_ended`` when
      it has one; an interim result opens the utterance if the start was missed.

    Bare frames do not carry these distinctions, and delivery is unordered
    (README §6.6): if an update overtakes the status change, or an "ended"
    overtakes the "started", the two names swap. Envelope names (wrapped and
    documented frames) are never changed; they only feed the state.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import replace
from typing import Final

from tui.voipbin.events import Event

__all__ = ["DEFAULT_MAX_KEYS", "EventNamer", "event_key"]

# Copies arrive back to back (two topics matching one event) and nothing is replayed after a reconnect,
# so a short memory is enough; a long one would only grow with the call.
DEFAULT_MAX_KEYS: Final = 10_000
_STATE_MAX: Final = 10_000

_SPEECH_STARTED: Final = "transcribe_speech_started"
_SPEECH_ENDED: Final = "transcribe_speech_ended"
_SPEECH_INTERIM: Final = "transcribe_speech_interim"


def event_key(event: Event) -> bytes:
    """A compact identity for an event's content: kind + canonical JSON of its payload."""
    if event.kind == "unrecognised" and not event.data:
        body = event.raw
    else:
        try:
            body = json.dumps(event.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
        except (TypeError, ValueError, RecursionError):
            body = event.raw
    digest = hashlib.blake2b(digest_size=16)
    digest.update(event.kind.encode())
    digest.update(b"\x00")
    digest.update(body.encode("utf-8", errors="surrogatepass"))
    return digest.digest()


class _Lru:
    """A small bounded mapping that forgets the least recently used keys."""

    __slots__ = ("_data", "_max")

    def __init__(self, maximum: int) -> None:
        self._data: OrderedDict[object, object] = OrderedDict()
        self._max = max(1, maximum)

    def get(self, key: object) -> object | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: object, value: object) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self._max:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        self._data.clear()


class EventNamer:
    """Marks duplicates and refines inferred names. One instance per stream (or per session)."""

    def __init__(self, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        self._seen = _Lru(max_keys)  # event_key -> resolved name
        self._call_statuses = _Lru(_STATE_MAX)  # call id -> set of statuses seen
        self._open_utterances = _Lru(_STATE_MAX)  # streaming id -> True while an utterance is open
        self.duplicates = 0
        self.processed = 0

    def __call__(self, event: Event) -> Event:
        return self.process(event)

    def __len__(self) -> int:
        return len(self._seen)

    def clear(self) -> None:
        self._seen.clear()
        self._call_statuses.clear()
        self._open_utterances.clear()

    def process(self, event: Event) -> Event:
        """Return ``event``, marked as a duplicate and/or renamed when needed (a new frozen instance)."""
        self.processed += 1
        key = event_key(event)
        first_name = self._seen.get(key)
        if isinstance(first_name, str):
            self.duplicates += 1
            if first_name != event.event and event.inferred:
                return replace(event, duplicate=True, event=first_name)
            return replace(event, duplicate=True)
        name = self._refine(event)
        self._seen.put(key, name)
        if name != event.event:
            return replace(event, event=name)
        return event

    # ------------------------------------------------------------------ naming

    def _refine(self, event: Event) -> str:
        if event.kind == "call":
            return self._refine_call(event)
        if event.kind == "speech":
            return self._refine_speech(event)
        return event.event

    def _refine_call(self, event: Event) -> str:
        call = event.call
        if call is None or not call.id:
            return event.event
        statuses = self._call_statuses.get(call.id)
        seen: set[str] = statuses if isinstance(statuses, set) else set()
        status = call.status
        already = status in seen
        seen.add(status)
        self._call_statuses.put(call.id, seen)
        if not event.inferred or event.event == "call_deleted":
            return event.event
        if already:
            return "call_updated"
        return event.event

    def _refine_speech(self, event: Event) -> str:
        speech = event.speech
        if speech is None:
            return event.event
        stream = speech.streaming_id or f"{speech.transcribe_id}/{speech.direction}"
        is_open = self._open_utterances.get(stream) is True
        if not event.inferred:
            name = event.event
        elif speech.is_interim:
            name = _SPEECH_INTERIM
        else:
            name = _SPEECH_ENDED if is_open else _SPEECH_STARTED
        if name == _SPEECH_ENDED:
            self._open_utterances.put(stream, False)
        elif name in (_SPEECH_STARTED, _SPEECH_INTERIM):
            self._open_utterances.put(stream, True)
        return name
