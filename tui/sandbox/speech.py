"""Simulated audio and speech-to-text: who is speaking, and what the transcriber reports.

Text is "spoken" sentence by sentence, ``talk_ms_per_char`` per character with a short pause between
sentences. Each open STT stream that hears that direction behaves like VoIPBIN's result processor:

- the first interim result of an utterance publishes ``transcribe_speech_started``, then every interim
  publishes ``transcribe_speech_interim`` with a growing prefix of the sentence (every
  ``interim_interval``);
- the final result arrives ``stt_final_delay_min..max`` after the sentence's audio ends; it publishes
  ``transcribe_speech_ended`` and then ``transcript_created`` back to back (the real processor emits
  "ended" when the final arrives, not when the audio stops);
- while a final is outstanding, interims of the next sentence are held back, so one stream's events
  never interleave two utterances;
- audio from two sources overlapping in one direction gives one interim hypothesis covering both
  (VoIPBIN keeps one hypothesis per direction); each source's words still get their own final;
- ``tm_transcript`` is the wall-clock time from the stream's start to the final result.

Cut-off audio (flush, stop, hangup) still yields a final for the words already spoken, as a real
recogniser finalises what it heard when the audio stops.
"""

from __future__ import annotations

import asyncio
import collections
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from tui.sandbox.encoding import new_id
from tui.sandbox.models import Transcribe, Transcript, speech_json

if TYPE_CHECKING:
    from tui.sandbox.core import SandboxCore

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")


def split_sentences(text: str) -> list[str]:
    parts = [part.strip() for part in _SENTENCE_END.split(text.strip())]
    return [part for part in parts if part]


def spoken_prefix(words: list[str], fraction: float) -> str:
    count = min(len(words), max(1, math.ceil(fraction * len(words))))
    return " ".join(words[:count])


class SttStream:
    """One direction of one transcribe (``in`` or ``out``)."""

    def __init__(self, core: SandboxCore, transcribe: Transcribe, direction: str) -> None:
        self.core = core
        self.id = new_id()
        self.transcribe = transcribe
        self.direction = direction
        loop = asyncio.get_running_loop()
        self._loop = loop
        self.started_at = loop.time()
        self.speaking = False
        self.closed = False
        self._pending: collections.deque[tuple[asyncio.TimerHandle, str]] = collections.deque()
        self._last_final_at = 0.0
        # Overlapping sources of audio in this direction: one hypothesis covering all of them.
        self._heard: dict[object, str] = {}
        self.expired = False
        limit = core.settings.transcribe_stream_limit
        if limit and transcribe.provider in ("", "gcp"):
            # Google ends a streaming request after 5 minutes; transcribe-manager never reopens it.
            core.later(limit, self.expire)

    def expire(self) -> None:
        """The provider ended the stream: nothing more is recognised, and nothing says so."""
        if self.closed:
            return
        self.expired = True
        self.closed = True
        while self._pending:
            handle, _ = self._pending.popleft()
            handle.cancel()
        self._heard.clear()

    def _speech(self, event_type: str, message: str) -> None:
        payload = speech_json(
            event_id=new_id(),
            customer_id=self.transcribe.customer_id,
            streaming_id=self.id,
            transcribe_id=self.transcribe.id,
            direction=self.direction,
            message=message,
            at=self.core.clock.now(),
        )
        self.core.publish(event_type, payload)

    def interim(self, text: str, source: object = None) -> None:
        if self.closed or self._pending:
            return
        if source is not None:
            self._heard[source] = text
        parts = [*self._heard.values(), *([text] if source is None else [])]
        if not self.speaking:
            self.speaking = True
            self._speech("transcribe_speech_started", "")
        self._speech("transcribe_speech_interim", " ".join(parts))

    def finish(self, text: str, audio_end: float, source: object = None) -> None:
        """One source stopped: its words are final (the hypothesis goes on with the others)."""
        if self.closed:
            return
        self._heard.pop(source, None)
        self.schedule_final(text, audio_end)

    def schedule_final(self, text: str, audio_end: float) -> None:
        if self.closed:
            return
        settings = self.core.settings
        latency = self.core.rng.uniform(settings.stt_final_delay_min, settings.stt_final_delay_max)
        at = max(audio_end + self.core.clock.real(latency), self._last_final_at + 0.001)
        self._last_final_at = at
        handle = self.core.clock.call_at(at, self._fire_final)
        self._pending.append((handle, text))

    def _fire_final(self) -> None:
        if not self._pending:
            return
        _, text = self._pending.popleft()
        self._final(text)

    def _final(self, text: str) -> None:
        if self.closed:
            return
        if self.speaking:
            self.speaking = False
            self._speech("transcribe_speech_ended", "")
        if not text:
            return
        transcript = Transcript(
            id=new_id(),
            customer_id=self.transcribe.customer_id,
            transcribe_id=self.transcribe.id,
            direction=self.direction,
            message=text,
            offset_seconds=self._loop.time() - self.started_at,
            tm_create=self.core.store.stamp(),
            offset_field=self.core.settings.transcript_offset_field,
        )
        self.core.store.transcripts.setdefault(self.transcribe.id, []).append(transcript)
        self.core.publish("transcript_created", transcript.to_json())

    def close(self) -> None:
        """Stop the stream; results still owed by the recogniser are delivered first."""
        if self.closed:
            return
        while self._pending:
            handle, text = self._pending.popleft()
            handle.cancel()
            self._final(text)
        self.closed = True


class SpeechHub:
    """Audio on calls and the STT streams listening to it."""

    def __init__(self, core: SandboxCore) -> None:
        self.core = core
        self._streams: dict[str, list[SttStream]] = {}

    def open_streams(self, transcribe: Transcribe) -> list[SttStream]:
        directions = ["in", "out"] if transcribe.direction == "both" else [transcribe.direction]
        streams = [SttStream(self.core, transcribe, d) for d in directions]
        self._streams.setdefault(transcribe.reference_id, []).extend(streams)
        return streams

    def close_streams(self, transcribe: Transcribe) -> None:
        remaining: list[SttStream] = []
        for stream in self._streams.get(transcribe.reference_id, []):
            if stream.transcribe.id == transcribe.id:
                stream.close()
            else:
                remaining.append(stream)
        if remaining:
            self._streams[transcribe.reference_id] = remaining
        else:
            self._streams.pop(transcribe.reference_id, None)

    def listeners(self, call_id: str, direction: str) -> list[SttStream]:
        return [s for s in self._streams.get(call_id, ()) if s.direction == direction and not s.closed]

    async def play(self, call_id: str, direction: str, text: str, *, transcribed: bool = True) -> None:
        """Speak ``text`` into one direction of a call; returns when the audio has finished."""
        clock = self.core.clock
        for index, sentence in enumerate(split_sentences(text)):
            if index:
                await clock.sleep(self.core.settings.sentence_gap)
            await self._sentence(call_id, direction, sentence, transcribed)

    async def _sentence(self, call_id: str, direction: str, sentence: str, transcribed: bool) -> None:
        clock = self.core.clock
        settings = self.core.settings
        loop = asyncio.get_running_loop()
        words = sentence.split()
        source = object()  # tells this sentence's audio apart from another one overlapping it
        duration = len(sentence) * settings.talk_ms_per_char / 1000.0
        # On a SIP call the sentence becomes real audio to the phone and its length is the audio's.
        media = self.core.sip.media_for(call_id, direction) if self.core.sip is not None else None
        if media is not None:
            duration = await media.play(sentence, duration)
        start = loop.time()
        end = start + clock.real(duration)
        heard = ""
        try:
            step = 1
            while True:
                offset = step * settings.interim_interval
                if offset >= duration:
                    break
                await clock.sleep_until(start + clock.real(offset))
                heard = spoken_prefix(words, offset / duration)
                if transcribed:
                    for stream in self.listeners(call_id, direction):
                        stream.interim(heard, source)
                step += 1
            await clock.sleep_until(end)
        except asyncio.CancelledError:
            if media is not None:
                media.stop_playback()
            if transcribed and heard:
                cut = loop.time()
                for stream in self.listeners(call_id, direction):
                    stream.finish(heard, cut, source)
            raise
        if transcribed:
            for stream in self.listeners(call_id, direction):
                stream.finish(sentence, end, source)


class SpeechQueue:
    """Texts spoken one after another into one direction of a call (a Speaking stream, a phone)."""

    def __init__(
        self,
        core: SandboxCore,
        call_id: str,
        direction: str,
        *,
        first_audio_delay: float,
        transcribed: Callable[[], bool],
    ) -> None:
        self.core = core
        self.call_id = call_id
        self.direction = direction
        self._first_audio_delay = first_audio_delay
        self._transcribed = transcribed
        self._items: collections.deque[str] = collections.deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._runner: asyncio.Task[None] | None = None
        self._current: asyncio.Task[None] | None = None
        self.closed = False

    def say(self, text: str) -> None:
        if self.closed:
            return
        self._items.append(text)
        self._idle.clear()
        self._wake.set()
        if self._runner is None:
            self._runner = self.core.spawn(self._run())

    def flush(self) -> None:
        self._items.clear()
        if self._current is not None:
            self._current.cancel()

    def close(self) -> None:
        self.closed = True
        self.flush()
        if self._runner is not None:
            self._runner.cancel()
        self._idle.set()

    async def wait_idle(self) -> None:
        await self._idle.wait()

    async def _run(self) -> None:
        while True:
            while not self._items:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
            text = self._items.popleft()
            current = self.core.spawn(self._speak(text))
            self._current = current
            try:
                await asyncio.wait({current})
            finally:
                self._current = None
                if not current.done():
                    current.cancel()

    async def _speak(self, text: str) -> None:
        await self.core.clock.sleep(self._first_audio_delay)
        await self.core.speech.play(self.call_id, self.direction, text, transcribed=self._transcribed())
