"""One answered call's audio: what we hear (recorded, segmented by energy), what we say (paced, recorded).

Runs as a 40 ms tick on the event loop (two 20 ms frames each way). The two WAV files are time-aligned:
the transmit file gets a frame of silence whenever the phone has nothing to say.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.phone.engine import FRAME_BYTES, SAMPLE_RATE, PhoneEngine
from tui.phone.levels import Segment, SpeechSegmenter, frame_dbfs
from tui.phone.wavfile import WavWriter

FRAME = 0.02  # seconds of audio per frame (what the engines packetise)
TICK = 0.04  # how often the loop drains and feeds; two frames a tick halves the Python work per call
_LEAD_FRAMES = 4  # written ahead of the engine's transmit clock so it never runs dry between ticks
_HEARD_KEEP = SAMPLE_RATE * 2 * 30  # received PCM kept for speech-to-text: 30 s

Emit = Callable[[dict[str, Any]], None]
Transcriber = Callable[[bytes], Awaitable[str]]


@dataclass(slots=True)
class Utterance:
    label: dict[str, str]  # {"text": ...} or {"file": ...}
    pcm: bytes


class CallMedia:
    """Feeds and drains the engine for one call, and reports `heard` and `said`."""

    def __init__(
        self,
        engine: PhoneEngine,
        emit: Emit,
        *,
        threshold_dbfs: float,
        record_to: tuple[Path, Path] | None,
        transcriber: Transcriber | None = None,
        on_heard: Callable[[Segment], None] | None = None,
        on_said_end: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.emit = emit
        self.clock = clock
        self.segmenter = SpeechSegmenter(SAMPLE_RATE, threshold_dbfs=threshold_dbfs)
        self.transcriber = transcriber
        self.on_heard = on_heard
        self.on_said_end = on_said_end
        self.rx_wav = WavWriter(record_to[0]) if record_to else None
        self.tx_wav = WavWriter(record_to[1]) if record_to else None
        self._queue: list[Utterance] = []
        self._current: Utterance | None = None
        self._offset = 0
        self._started = clock()
        self._frames_sent = 0
        self._rx_origin: float | None = None
        self._rx_pending = bytearray()
        self._heard_pcm = bytearray()
        self._heard_base = 0.0  # stream position of _heard_pcm[0]
        self._tasks: set[asyncio.Task[None]] = set()
        self.heard_segments: list[Segment] = []
        self.rx_level_dbfs = self.segmenter.level_dbfs
        self.tx_level_dbfs = -96.0
        self.rx_bytes = 0  # PCM received: audio flowing in, whatever the engine's RTCP says yet
        self.tx_speech_frames = 0  # frames of our own lines handed to the engine

    @property
    def elapsed(self) -> float:
        return self.clock() - self._started

    @property
    def speaking(self) -> bool:
        return self._current is not None or bool(self._queue)

    def say(self, utterance: Utterance) -> None:
        self._queue.append(utterance)

    def tick(self) -> None:
        self._drain_rx()
        self._feed_tx()

    # -- receive ---------------------------------------------------------------------------------------
    def _drain_rx(self) -> None:
        data = self.engine.read_pcm()
        if not data:
            return
        self.rx_bytes += len(data)
        if self._rx_origin is None:
            self._rx_origin = max(0.0, self.elapsed - len(data) / (2 * SAMPLE_RATE))
        if self.rx_wav is not None:
            self.rx_wav.write(data)
        self._heard_pcm += data
        if len(self._heard_pcm) > _HEARD_KEEP:
            cut = len(self._heard_pcm) - _HEARD_KEEP
            cut -= cut % 2
            del self._heard_pcm[:cut]
            self._heard_base += cut / (2 * SAMPLE_RATE)
        self._rx_pending += data
        while len(self._rx_pending) >= FRAME_BYTES:
            frame = bytes(self._rx_pending[:FRAME_BYTES])
            del self._rx_pending[:FRAME_BYTES]
            for segment in self.segmenter.feed(frame):
                self._heard(segment)
        self.rx_level_dbfs = self.segmenter.level_dbfs

    def _heard(self, segment: Segment) -> None:
        origin = self._rx_origin or 0.0
        line: dict[str, Any] = {
            "kind": "heard",
            "start": round(origin + segment.start, 3),
            "end": round(origin + segment.end, 3),
            "duration": round(segment.duration, 3),
            "peak_dbfs": segment.peak_dbfs,
        }
        self.heard_segments.append(segment)
        if self.on_heard is not None:
            self.on_heard(segment)
        if self.transcriber is None:
            self.emit(line)
            return
        a = max(0, int((segment.start - self._heard_base) * SAMPLE_RATE) * 2)
        b = max(a, int((segment.end - self._heard_base) * SAMPLE_RATE) * 2)
        task = asyncio.ensure_future(self._transcribe(line, bytes(self._heard_pcm[a:b])))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _transcribe(self, line: dict[str, Any], pcm: bytes) -> None:
        assert self.transcriber is not None
        try:
            line["text"] = await self.transcriber(pcm)
        except Exception as exc:
            line["stt_error"] = type(exc).__name__
        self.emit(line)

    # -- transmit --------------------------------------------------------------------------------------
    def _feed_tx(self) -> None:
        due = int(self.elapsed / FRAME) + _LEAD_FRAMES
        while self._frames_sent < due:
            frame = self._next_frame()
            if frame is None:
                # Nothing to say: let the engine send its own silence, and keep the file aligned.
                if self.tx_wav is not None:
                    self.tx_wav.write(bytes(FRAME_BYTES))
                self.tx_level_dbfs = -96.0
            else:
                self.engine.write_pcm(frame)
                if self.tx_wav is not None:
                    self.tx_wav.write(frame)
            self._frames_sent += 1

    def _next_frame(self) -> bytes | None:
        if self._current is None:
            if not self._queue:
                return None
            self._current = self._queue.pop(0)
            self._offset = 0
            duration = len(self._current.pcm) / (2 * SAMPLE_RATE)
            at = self._frames_sent * FRAME
            self.emit({"kind": "said", **self._current.label, "start": round(at, 3), "duration": round(duration, 3)})
        pcm = self._current.pcm
        frame = pcm[self._offset : self._offset + FRAME_BYTES]
        self._offset += FRAME_BYTES
        self.tx_speech_frames += 1
        if self._offset >= len(pcm):
            self._current = None
            if self.on_said_end is not None:
                self.on_said_end()
        self.tx_level_dbfs = frame_dbfs(frame)
        return frame.ljust(FRAME_BYTES, b"\0")

    async def close(self) -> list[str]:
        """Flush the last segment, finish transcriptions, close the files; returns the recording paths."""
        for segment in self.segmenter.flush():
            self._heard(segment)
        if self._tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait(self._tasks, timeout=10)
        paths: list[str] = []
        for wav in (self.rx_wav, self.tx_wav):
            if wav is not None:
                wav.close()
                paths.append(str(wav.path))
        return paths
