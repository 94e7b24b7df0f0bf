"""Frame energy of 16-bit PCM and the speech segmenter built on it (no numpy needed)."""

from __future__ import annotations

import array
import math
import operator
import sys
from dataclasses import dataclass

SILENCE_DBFS = -96.0


def pcm_samples(pcm: bytes) -> array.array[int]:
    samples = array.array("h")
    samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def frame_dbfs(pcm: bytes) -> float:
    """RMS level of a frame in dB relative to full scale; -96 for silence or an empty frame."""
    samples = pcm_samples(pcm)
    if not samples:
        return SILENCE_DBFS
    power = sum(map(operator.mul, samples, samples)) / len(samples)
    if power <= 0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 10 * math.log10(power / (32768.0 * 32768.0)))


@dataclass(frozen=True, slots=True)
class Segment:
    """One stretch of speech, in seconds from the start of the stream."""

    start: float
    end: float
    peak_dbfs: float

    @property
    def duration(self) -> float:
        return self.end - self.start


class SpeechSegmenter:
    """Turns a stream of PCM frames into speech segments by energy.

    A segment opens when a frame is louder than ``threshold_dbfs`` and closes after ``hangover`` seconds
    below it (pauses between words stay inside one utterance); segments shorter than ``min_speech``
    are clicks, not speech, and are dropped.
    """

    def __init__(
        self,
        sample_rate: int = 8000,
        *,
        threshold_dbfs: float = -40.0,
        hangover: float = 0.6,
        min_speech: float = 0.15,
    ) -> None:
        self.sample_rate = sample_rate
        self.threshold_dbfs = threshold_dbfs
        self.hangover = hangover
        self.min_speech = min_speech
        self._t = 0.0
        self._start: float | None = None
        self._last_loud = 0.0
        self._peak = SILENCE_DBFS
        self.level_dbfs = SILENCE_DBFS

    @property
    def position(self) -> float:
        """Seconds of audio consumed so far."""
        return self._t

    @property
    def in_speech(self) -> bool:
        return self._start is not None

    def feed(self, pcm: bytes) -> list[Segment]:
        """Consume one frame; return the segments it closed (usually none)."""
        duration = (len(pcm) // 2) / self.sample_rate
        level = frame_dbfs(pcm)
        self.level_dbfs = level
        start_t = self._t
        self._t += duration
        closed: list[Segment] = []
        if level >= self.threshold_dbfs:
            if self._start is None:
                self._start = start_t
                self._peak = level
            self._last_loud = self._t
            self._peak = max(self._peak, level)
        elif self._start is not None and self._t - self._last_loud >= self.hangover:
            closed.extend(self._close())
        return closed

    def flush(self) -> list[Segment]:
        """Close an open segment at the end of the stream."""
        return self._close() if self._start is not None else []

    def _close(self) -> list[Segment]:
        assert self._start is not None
        segment = Segment(round(self._start, 3), round(self._last_loud, 3), round(self._peak, 1))
        self._start = None
        return [segment] if segment.duration >= self.min_speech else []
