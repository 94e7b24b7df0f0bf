"""Text to speech for the phone's lines: eSpeak NG through ``espeakng-loader`` (optional extra).

eSpeak NG is GPL-3.0: it is loaded at run time from the separately installed ``espeakng-loader``
wheel, never vendored, and only when the ``phone-tts`` extra is installed. Without it the phone can
still play WAV files; text lines then fail with :class:`TtsUnavailable` saying what to install.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

from tui.phone.engine import SAMPLE_RATE
from tui.phone.wavfile import resample

TTS_HINT = "speaking text lines needs the TTS extra: pip install 'voipbin-tui[phone-tts]' (eSpeak NG, GPL-3.0)"
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE = 1
_MAX_TEXT = 2000  # characters per line; longer text is cut, so one line cannot stall the call

_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class TtsUnavailable(RuntimeError):
    pass


class Espeak:
    """One process-wide eSpeak NG (the library keeps global state), serialised by a lock."""

    _instance: Espeak | None = None
    _guard = threading.Lock()

    def __init__(self, voice: str = "en-us", words_per_minute: int = 160) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:
            raise TtsUnavailable(TTS_HINT) from exc
        lib: Any = ctypes.CDLL(espeakng_loader.get_library_path())
        data = espeakng_loader.get_data_path().encode()
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, ctypes.c_char_p(data), 0)
        if rate <= 0:
            raise TtsUnavailable("eSpeak NG did not initialise (its data directory may be missing)")
        self.native_rate = int(rate)
        self._lib = lib
        self._chunks: list[bytes] = []
        self._callback = _CALLBACK(self._on_samples)  # kept referenced: the library holds the pointer
        self._voice = voice.encode()
        self._words_per_minute = words_per_minute
        self._lock = threading.Lock()

    @classmethod
    def shared(cls) -> Espeak:
        with cls._guard:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def _on_samples(self, wav: Any, count: int, events: Any) -> int:
        if count > 0 and wav:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        return 0

    def synth(self, text: str, sample_rate: int = SAMPLE_RATE) -> bytes:
        """``text`` as 16-bit mono PCM at ``sample_rate``."""
        data = text[:_MAX_TEXT].encode("utf-8") + b"\0"
        with self._lock:
            self._chunks = []
            # Callback, voice and rate are the library's process-wide state, which the sandbox's voice
            # (in the same process in tests) sets too: set ours for every line.
            self._lib.espeak_SetSynthCallback(self._callback)
            self._lib.espeak_SetVoiceByName(ctypes.c_char_p(self._voice))
            self._lib.espeak_SetParameter(_RATE, self._words_per_minute, 0)
            self._lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            pcm = b"".join(self._chunks)
            self._chunks = []
        return resample(pcm, self.native_rate, sample_rate)


def synthesize(text: str, sample_rate: int = SAMPLE_RATE) -> bytes:
    """Speak ``text`` to PCM; raises :class:`TtsUnavailable` without the extra."""
    return Espeak.shared().synth(text, sample_rate)
