"""The audio of one SIP call leg: text spoken to the phone, and the phone's speech turned into events.

What the sandbox says (the ``talk`` text, spoken ``/say`` lines) is rendered off the event loop (eSpeak NG
or tone bursts, see ``voice``), encoded once and queued on the leg's RTP stream. What the phone sends is
segmented by energy (``listen``); each segment becomes ``in`` speech events and a transcript that says
what it is (``[speech 1.4 s]``), or the text of the optional speech-to-text hook.
"""

from __future__ import annotations

import array
import asyncio
import logging
from typing import TYPE_CHECKING, Any

from tui.sandbox.sip import listen, voice
from tui.sandbox.sip.rtp import RtpSession

if TYPE_CHECKING:
    from tui.sandbox.models import Call
    from tui.sandbox.sip.service import SipService

log = logging.getLogger("tui.sandbox.sip")


class CallMedia:
    def __init__(self, service: SipService, call: Call) -> None:
        self.service = service
        self.core = service.core
        self.call = call
        self.rtp = RtpSession(service.host, self._on_audio)
        self.rtp.on_tick = self._on_tick
        self.segmenter = listen.SpeechSegmenter(self._speech_started, self._speech_ended)
        self.audio_out = ""
        self.closed = False
        self._segment_start = 0.0
        self._last_interim = 0.0

    def start(self) -> None:
        """The call is answered: packets flow on the shared 20 ms clock from now on."""
        if not self.closed:
            self.service.clock.add(self.rtp)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.segmenter.flush()
        self.service.clock.discard(self.rtp)
        self.rtp.close()

    # --- towards the phone ---------------------------------------------------------------------

    def _gone(self) -> bool:
        return self.closed or self.rtp.closed

    async def play(self, text: str, seconds: float) -> float:
        """Speak ``text`` to the phone after anything queued; returns the seconds until it has been sent."""
        if self._gone():
            return seconds
        payload, kind = await voice.render(
            text, seconds, use_tts=self.core.settings.sip_tts, payload_type=self.rtp.payload_type
        )
        self.audio_out = kind
        if self._gone():
            return seconds
        return self.rtp.play(payload)

    def stop_playback(self) -> None:
        self.rtp.stop_playback()

    # --- from the phone ------------------------------------------------------------------------

    def _on_audio(self, payload: bytes, payload_type: int, at: float) -> None:
        self.segmenter.feed(payload, payload_type, at)
        if self.segmenter.active and at - self._last_interim >= self.core.settings.interim_interval:
            self._last_interim = at
            for stream in self.core.speech.listeners(self.call.id, "in"):
                stream.interim(listen.segment_label(at - self._segment_start))

    def _on_tick(self, now: float) -> None:
        self.segmenter.check(now)

    def _speech_started(self, at: float) -> None:
        self._segment_start = at
        self._last_interim = at
        for stream in self.core.speech.listeners(self.call.id, "in"):
            stream.interim(listen.segment_label(0.0))

    def _speech_ended(self, start: float, end: float, audio: array.array[int]) -> None:
        label = listen.segment_label(end - start)
        recogniser = self.service.speech_to_text
        if recogniser is None:
            self._final(label, end)
            return

        async def recognise() -> None:
            loop = asyncio.get_running_loop()
            try:
                text = await loop.run_in_executor(None, recogniser, audio)
            except Exception:
                log.exception("speech-to-text failed; reporting the segment")
                text = ""
            self._final(text.strip() or label, end)

        self.core.spawn(recognise())

    def _final(self, text: str, end: float) -> None:
        for stream in self.core.speech.listeners(self.call.id, "in"):
            stream.schedule_final(text, end)

    def summary(self) -> dict[str, Any]:
        return {
            "audio_out": self.audio_out or ("tts" if self.core.settings.sip_tts and voice.espeak_voice() else "tone"),
            "rtp": self.rtp.stats.summary(),
            "out_audio_frames": self.rtp.energy_out_frames,
            "in_speech_frames": self.segmenter.speech_frames,
            "in_speech_segments": self.segmenter.segments,
            "in_peak_dbfs": listen.dbfs(self.segmenter.peak_rms),
        }
