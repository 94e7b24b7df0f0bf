"""WAV in and out for the phone: 16-bit mono PCM, with the standard library's ``wave``."""

from __future__ import annotations

import array
import wave
from pathlib import Path

from tui.phone.levels import pcm_samples


class WavWriter:
    """Appends 16-bit mono PCM to a WAV file; the header is fixed up on :meth:`close`."""

    def __init__(self, path: Path, sample_rate: int = 8000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.sample_rate = sample_rate
        self.frames = 0
        self._wav: wave.Wave_write | None = wave.open(str(path), "wb")  # noqa: SIM115 - closed in close()
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(sample_rate)

    def write(self, pcm: bytes) -> None:
        if self._wav is not None and pcm:
            self._wav.writeframes(pcm)
            self.frames += len(pcm) // 2

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate

    def close(self) -> None:
        if self._wav is not None:
            self._wav.close()
            self._wav = None


def resample(pcm: bytes, src_rate: int, dst_rate: int) -> bytes:
    """Linear-interpolation resampling of 16-bit mono PCM (good enough for speech to 8 kHz)."""
    if src_rate == dst_rate or not pcm:
        return pcm
    samples = pcm_samples(pcm)
    n_out = int(len(samples) * dst_rate / src_rate)
    step = src_rate / dst_rate
    out = array.array("h", bytes(2 * n_out))
    last = len(samples) - 1
    for i in range(n_out):
        pos = i * step
        j = int(pos)
        frac = pos - j
        a = samples[j]
        b = samples[j + 1] if j < last else a
        out[i] = int(a + (b - a) * frac)
    return out.tobytes()


def read_wav_pcm(path: Path, sample_rate: int = 8000) -> bytes:
    """A WAV file as 16-bit mono PCM at ``sample_rate``; stereo is mixed down. Raises ValueError."""
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"{path.name}: not a PCM WAV file ({exc})") from exc
    if width != 2:
        raise ValueError(f"{path.name}: {8 * width}-bit samples; only 16-bit PCM WAV is supported")
    samples = pcm_samples(raw)
    if channels > 1:
        mono = array.array("h", [sum(samples[i : i + channels]) // channels for i in range(0, len(samples), channels)])
        samples = mono
    return resample(samples.tobytes(), rate, sample_rate)
