"""Text to audio for the sandbox's side of a SIP call.

With the optional ``tts`` extra (``espeakng-loader``: libespeak-ng and its data in a wheel; espeak-ng is
GPL-3.0, which is why it is optional) the text is spoken by eSpeak NG. Without it the audio is a plainly
synthetic signal: one tone burst per word (a 400 Hz tone with a 3rd harmonic), the bursts together as long
as the simulated speaking time of the text (``talk_ms_per_char``), so a listener hears *that* and *when*
something was said, not what.
"""

from __future__ import annotations

import array
import ctypes
import logging
import math
import threading
from typing import Any

log = logging.getLogger("tui.sandbox.sip")

RATE = 8000
_AMPLITUDE = 9000
_WORD_GAP = 0.08


def tone_for_text(text: str, seconds: float) -> array.array[int]:
    words = text.split() or ["."]
    total_chars = sum(len(word) for word in words)
    speech_seconds = max(0.1, seconds - _WORD_GAP * (len(words) - 1))
    out = array.array("h")
    for index, word in enumerate(words):
        if index:
            out.extend([0] * int(_WORD_GAP * RATE))
        count = max(40, int(speech_seconds * len(word) / total_chars * RATE))
        ramp = min(80, count // 4)
        for n in range(count):
            envelope = min(1.0, n / ramp, (count - n) / ramp) if ramp else 1.0
            phase = 2 * math.pi * 400 * n / RATE
            value = math.sin(phase) + 0.3 * math.sin(3 * phase)
            out.append(int(_AMPLITUDE * envelope * value / 1.3))
    return out


def resample(samples: array.array[int], source_rate: int) -> array.array[int]:
    """Down-sample to 8 kHz by averaging each output sample's window (a crude low-pass)."""
    if source_rate == RATE:
        return samples
    ratio = source_rate / RATE
    out = array.array("h")
    count = int(len(samples) / ratio)
    for index in range(count):
        start = int(index * ratio)
        end = max(start + 1, int((index + 1) * ratio))
        window = samples[start:end]
        out.append(int(sum(window) / len(window)))
    return out


class EspeakVoice:
    """eSpeak NG through ctypes, synchronous synthesis into memory; one call at a time."""

    _AUDIO_OUTPUT_SYNCHRONOUS = 2
    _POS_CHARACTER = 1
    _CHARS_UTF8 = 1

    def __init__(self, library: str, data_path: str) -> None:
        self._lib = ctypes.CDLL(library)
        self._lock = threading.Lock()
        callback_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)
        self._chunks: list[bytes] = []

        def collect(wav: Any, count: int, _events: Any) -> int:
            if wav and count > 0:
                self._chunks.append(ctypes.string_at(wav, count * 2))
            return 0

        self._callback = callback_type(collect)
        self._lib.espeak_Initialize.restype = ctypes.c_int
        rate = self._lib.espeak_Initialize(self._AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), 0)
        if rate <= 0:
            raise OSError("espeak-ng failed to initialise")
        self.rate = rate
        self._lib.espeak_SetSynthCallback(self._callback)
        self._lib.espeak_SetVoiceByName(b"en-us")

    def synthesize(self, text: str) -> array.array[int]:
        data = text.encode("utf-8") + b"\0"
        with self._lock:
            self._chunks = []
            self._lib.espeak_Synth(
                ctypes.c_char_p(data),
                ctypes.c_size_t(len(data)),
                0,
                self._POS_CHARACTER,
                0,
                self._CHARS_UTF8,
                None,
                None,
            )
            self._lib.espeak_Synchronize()
            pcm = b"".join(self._chunks)
        samples = array.array("h")
        samples.frombytes(pcm)
        return resample(samples, self.rate)


_voice: EspeakVoice | None = None
_voice_checked = False


def espeak_voice() -> EspeakVoice | None:
    """The eSpeak NG voice when the optional extra is installed (loaded once), else None."""
    global _voice, _voice_checked
    if _voice_checked:
        return _voice
    _voice_checked = True
    try:
        import espeakng_loader  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    try:
        _voice = EspeakVoice(espeakng_loader.get_library_path(), espeakng_loader.get_data_path())
    except (OSError, AttributeError) as exc:
        log.warning("espeak-ng is installed but could not be loaded (%s); using tone bursts", exc)
        _voice = None
    return _voice


def synthesize(text: str, seconds: float, *, use_tts: bool = True) -> tuple[array.array[int], str]:
    """Audio for ``text`` and how it was made (``tts`` or ``tone``)."""
    voice = espeak_voice() if use_tts else None
    if voice is not None:
        return voice.synthesize(text), "tts"
    return tone_for_text(text, seconds), "tone"
