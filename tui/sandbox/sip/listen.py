"""What the phone sends: energy-based speech segments, and an optional speech-to-text hook.

Without speech-to-text a segment is reported as exactly what it is, ``[speech 1.4 s]``; no words are ever
invented. A frame is speech when its RMS level is above ``SPEECH_RMS`` (about -40 dBFS); a segment starts
after ``START_FRAMES`` speech frames and ends after ``END_SILENCE`` seconds without one.
"""

from __future__ import annotations

import array
import math
from collections.abc import Callable
from typing import Protocol

from tui.sandbox.sip import g711

SPEECH_RMS = 330.0
START_FRAMES = 2
END_SILENCE = 0.5
MIN_SEGMENT = 0.2
MAX_SEGMENT = 30.0
FRAME_SECONDS = 0.02


class SpeechToText(Protocol):
    """A recogniser: 8 kHz 16-bit mono PCM samples in, text out (empty when it heard no words)."""

    def __call__(self, samples: array.array[int]) -> str: ...


def rms(samples: array.array[int]) -> float:
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))


def dbfs(level: float) -> float:
    return -120.0 if level <= 0 else round(20 * math.log10(level / 32768.0), 1)


def segment_label(seconds: float) -> str:
    return f"[speech {seconds:.1f} s]"


class SpeechSegmenter:
    def __init__(
        self,
        on_start: Callable[[float], None],
        on_end: Callable[[float, float, array.array[int]], None],
    ) -> None:
        self._on_start = on_start
        self._on_end = on_end
        self._run = 0
        self._started_at: float | None = None
        self._last_speech = 0.0
        self._frames: list[tuple[bytes, int]] = []
        self.speech_frames = 0
        self.frames = 0
        self.peak_rms = 0.0
        self.segments = 0

    @property
    def active(self) -> bool:
        return self._started_at is not None

    def feed(self, payload: bytes, payload_type: int, at: float) -> None:
        """One G.711 frame as it arrived; its energy decides, its audio is kept for speech-to-text."""
        level = g711.rms(payload, payload_type)
        self.frames += 1
        self.peak_rms = max(self.peak_rms, level)
        speech = level >= SPEECH_RMS
        if speech:
            self.speech_frames += 1
        if self._started_at is None:
            self._run = self._run + 1 if speech else 0
            self._frames.append((payload, payload_type))
            del self._frames[: max(0, len(self._frames) - START_FRAMES)]
            if self._run >= START_FRAMES:
                self._started_at = at - (START_FRAMES - 1) * FRAME_SECONDS
                self._last_speech = at
                self._on_start(self._started_at)
            return
        if len(self._frames) < MAX_SEGMENT / FRAME_SECONDS:
            self._frames.append((payload, payload_type))
        if speech:
            self._last_speech = at
        if at - self._last_speech >= END_SILENCE or at - self._started_at >= MAX_SEGMENT:
            self._finish()

    def check(self, now: float) -> None:
        """Ends a segment when the phone stopped sending packets altogether (no frames to feed)."""
        if self._started_at is not None and now - self._last_speech >= END_SILENCE + FRAME_SECONDS:
            self._finish()

    def _finish(self) -> None:
        start = self._started_at
        if start is None:
            return
        end = self._last_speech + FRAME_SECONDS
        keep = max(0, round((end - start) / FRAME_SECONDS))
        frames = self._frames[:keep]
        self._started_at = None
        self._run = 0
        self._frames = []
        if end - start >= MIN_SEGMENT:
            self.segments += 1
            audio = array.array("h")
            for payload, payload_type in frames:
                audio.extend(g711.decode(payload, payload_type))
            self._on_end(start, end, audio)

    def flush(self) -> None:
        """The call ended: a segment still open ends where the speech last was."""
        self._finish()
