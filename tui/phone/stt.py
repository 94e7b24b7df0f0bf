"""Optional speech to text for `heard` lines: faster-whisper with a model directory on disk.

faster-whisper (MIT) and a model are large (the tiny English model is about 75 MB, with its runtime
about 380 MB installed), so this is the ``phone-stt`` extra and is loaded only when ``stt_model``
names a directory. Nothing is ever downloaded at run time.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tui.phone.callmedia import Transcriber
from tui.phone.levels import pcm_samples
from tui.phone.wavfile import resample

STT_HINT = "speech to text needs: pip install 'voipbin-tui[phone-stt]' and a faster-whisper model directory"


class SttUnavailable(RuntimeError):
    pass


def load_transcriber(model_dir: str, language: str = "en") -> Transcriber:
    """A coroutine function turning 8 kHz PCM into text; raises :class:`SttUnavailable`."""
    path = Path(model_dir).expanduser()
    if not path.is_dir():
        raise SttUnavailable(f"stt_model {model_dir!r} is not a directory (models are never downloaded)")
    try:
        import numpy
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise SttUnavailable(STT_HINT) from exc
    model: Any = WhisperModel(str(path), device="cpu", compute_type="int8")

    def run(pcm: bytes) -> str:
        wide = resample(pcm, 8000, 16000)
        audio = numpy.asarray(pcm_samples(wide), dtype=numpy.float32) / 32768.0
        segments, _ = model.transcribe(audio, language=language, beam_size=1)
        return " ".join(s.text.strip() for s in segments).strip()

    async def transcribe(pcm: bytes) -> str:
        return await asyncio.to_thread(run, pcm)

    return transcribe
