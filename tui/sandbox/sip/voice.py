"""Text to audio for the sandbox's side of a SIP call.

With the optional ``tts`` extra (``espeakng-loader``: libespeak-ng and its data in a wheel; espeak-ng is
GPL-3.0, which is why it is optional) the text is spoken by eSpeak NG. Without it the audio is a plainly
synthetic signal: one tone burst per word (a 400 Hz tone with a 3rd harmonic), the bursts together as long
as the simulated speaking time of the text (``talk_ms_per_char``), so a listener hears *that* and *when*
something was said, not what.
"""

from __future__ import annotations

import array
import asyncio
import collections
import ctypes
import logging
import math
import threading
from typing import Any

from tui.sandbox.sip import g711

log = logging.getLogger("tui.sandbox.sip")

RATE = 8000
_AMPLITUDE = 9000
_WORD_GAP = 0.08


def _tone_cycle() -> array.array[int]:
    # 400 Hz at 8 kHz is exactly 20 samples a period, so bursts are slices of one precomputed second.
    return array.array(
        "h",
        (
            int(
                _AMPLITUDE
                * (math.sin(2 * math.pi * 400 * n / RATE) + 0.3 * math.sin(6 * math.pi * 400 * n / RATE))
                / 1.3
            )
            for n in range(RATE)
        ),
    )


_TONE = _tone_cycle()
_RAMP = 80


def _burst(count: int) -> array.array[int]:
    out = array.array("h")
    while len(out) < count:
        out.extend(_TONE[: count - len(out)])
    ramp = min(_RAMP, count // 4)
    for n in range(ramp):
        out[n] = out[n] * n // ramp
        out[count - 1 - n] = out[count - 1 - n] * n // ramp
    return out


def tone_for_text(text: str, seconds: float) -> array.array[int]:
    words = text.split() or ["."]
    total_chars = sum(len(word) for word in words)
    speech_seconds = max(0.1, seconds - _WORD_GAP * (len(words) - 1))
    gap = array.array("h", bytes(2 * int(_WORD_GAP * RATE)))
    out = array.array("h")
    for index, word in enumerate(words):
        if index:
            out.extend(gap)
        out.extend(_burst(max(40, int(speech_seconds * len(word) / total_chars * RATE))))
    return out


def _resample_range(values: list[int], ratio: float, first: int, last: int, offset: int = 0) -> array.array[int]:
    """Output samples ``first``..``last``; ``values`` holds the input from index ``offset`` on."""
    span = max(1, int(ratio))
    out = array.array("h")
    for index in range(first, last):
        start = int(index * ratio) - offset
        out.append(sum(values[start : start + span]) // span)
    return out


def resample(samples: array.array[int], source_rate: int) -> array.array[int]:
    """Down-sample to 8 kHz by averaging each output sample's window (a crude low-pass)."""
    if source_rate == RATE:
        return samples
    ratio = source_rate / RATE
    return _resample_range(samples.tolist(), ratio, 0, int(len(samples) / ratio))


class EspeakVoice:
    """eSpeak NG through ctypes, synchronous synthesis into memory; one call at a time."""

    _AUDIO_OUTPUT_SYNCHRONOUS = 2
    _POS_CHARACTER = 1
    _CHARS_UTF8 = 1
    _RATE = 1
    _WORDS_PER_MINUTE = 175  # eSpeak NG's own default

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

    def synthesize(self, text: str) -> array.array[int]:
        """Speech at 8 kHz."""
        return resample(self.speak(text), self.rate)

    def speak(self, text: str) -> array.array[int]:
        """Speech at the library's own rate (``self.rate``); the work is in C, outside the GIL."""
        data = text.encode("utf-8") + b"\0"
        with self._lock:
            self._chunks = []
            # The library keeps one callback, voice and rate for the whole process, and the phone's TTS
            # (tests run both in one process) sets its own: claim them again for every synthesis, or
            # the greeting goes to the phone's buffer and the call hears silence.
            self._lib.espeak_SetSynthCallback(self._callback)
            self._lib.espeak_SetVoiceByName(b"en-us")
            self._lib.espeak_SetParameter(self._RATE, self._WORDS_PER_MINUTE, 0)
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
        return samples


_voice: EspeakVoice | None = None
_voice_checked = False
_voice_lock = threading.Lock()


def espeak_voice() -> EspeakVoice | None:
    """The eSpeak NG voice when the optional extra is installed (loaded once), else None."""
    global _voice, _voice_checked
    with _voice_lock:
        if _voice_checked:
            return _voice
        _voice_checked = True
        try:
            import espeakng_loader
        except ImportError:
            return None
        try:
            _voice = EspeakVoice(str(espeakng_loader.get_library_path()), str(espeakng_loader.get_data_path()))
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


_rendered: collections.OrderedDict[tuple[str, float, bool, int], tuple[bytes, str]] = collections.OrderedDict()
_RENDER_CACHE = 32
_SLICE = 1600  # output samples (0.2 s) between yields to the event loop


_rendering: dict[tuple[str, float, bool, int], asyncio.Task[tuple[bytes, str]]] = {}


async def render(text: str, seconds: float, *, use_tts: bool, payload_type: int) -> tuple[bytes, str]:
    """G.711 audio for ``text`` and how it was made, built without stalling the event loop.

    Only the C synthesis runs in a worker thread. Resampling and encoding are pure Python; run in
    threads they would fight the event loop for the GIL (every packet send would wait for it), so they
    run here in 0.2 s slices. The same text (say, a greeting on many calls) is rendered once, also when
    the calls ask for it at the same moment: fifty calls answered together used to synthesise their
    greeting fifty times over, a core's worth of eSpeak for seconds while their packets were due.
    """
    key = (text, round(seconds, 2), use_tts, payload_type)
    cached = _rendered.get(key)
    if cached is not None:
        _rendered.move_to_end(key)
        return cached
    loop = asyncio.get_running_loop()
    task = _rendering.get(key)
    if task is None or task.get_loop() is not loop:
        # Its own task, so a caller that hangs up (is cancelled) does not cancel the others' audio.
        task = loop.create_task(_render(text, seconds, use_tts=use_tts, payload_type=payload_type))
        _rendering[key] = task
        task.add_done_callback(lambda done: _rendered_done(key, done))
    return await asyncio.shield(task)


def _rendered_done(key: tuple[str, float, bool, int], task: asyncio.Task[tuple[bytes, str]]) -> None:
    if _rendering.get(key) is task:
        del _rendering[key]
    if task.cancelled() or task.exception() is not None:
        return
    _rendered[key] = task.result()
    while len(_rendered) > _RENDER_CACHE:
        _rendered.popitem(last=False)


async def _render(text: str, seconds: float, *, use_tts: bool, payload_type: int) -> tuple[bytes, str]:
    loop = asyncio.get_running_loop()
    voice = await loop.run_in_executor(None, espeak_voice) if use_tts else None
    if voice is not None:
        raw, rate, kind = await loop.run_in_executor(None, voice.speak, text), voice.rate, "tts"
    else:
        raw, rate, kind = tone_for_text(text, seconds), RATE, "tone"
    ratio = rate / RATE
    span = max(1, int(ratio))
    total = int(len(raw) / ratio)
    payload = bytearray()
    for first in range(0, total, _SLICE):
        last = min(total, first + _SLICE)
        if rate == RATE:
            chunk = raw[first:last]
        else:
            # Only this slice's input becomes a list: converting thirty seconds of speech at once held
            # the loop for tens of milliseconds before the first slice.
            base = int(first * ratio)
            chunk = _resample_range(raw[base : int(last * ratio) + span].tolist(), ratio, first, last, base)
        payload += g711.encode(chunk, payload_type)
        await asyncio.sleep(0)
    return bytes(payload), kind
