"""The phone's life: register, take calls by the answer policy, speak lines on cues, report JSON lines.

Lines (``kind``): registered, incoming, answered, heard, said, rtp, hangup, unregistered, error.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui.phone.callmedia import FRAME, TICK, CallMedia, Emit, Transcriber, Utterance
from tui.phone.engine import SAMPLE_RATE, EngineEvent, PhoneAccount, PhoneEngine, RegistrationFailed
from tui.phone.levels import Segment
from tui.phone.tts import synthesize
from tui.phone.wavfile import read_wav_pcm

Synth = Callable[[str], bytes]


@dataclass(slots=True)
class PhoneOptions:
    """The behaviour of one phone (from ``[phone]`` settings and flags)."""

    answer: str = "auto"
    answer_delay: float = 1.0
    lines: list[str] = field(default_factory=list)
    cue: str = "greeting"
    cue_seconds: float = 2.0
    gap: float = 1.0
    threshold_dbfs: float = -40.0
    record_dir: Path | None = None
    hangup_after: float = 0.0
    rtp_interval: float = 5.0
    once: bool = False


def registration_message(account: PhoneAccount, exc: RegistrationFailed) -> str:
    """One clear sentence for a failed registration (never the password)."""
    where = f"extension {account.user!r} at {account.domain!r} over {account.transport.upper()}"
    if exc.status in (401, 407):
        return f"wrong password for {where}: the registrar answered {exc.status} again after our credentials"
    if exc.status == 403:
        return f"the registrar refused {where} (403 Forbidden): wrong password or extension not allowed"
    if exc.status == 404:
        return f"unknown extension: the registrar does not know {where} (404 Not Found)"
    if exc.status is not None:
        return f"registration of {where} failed: {exc}"
    if account.transport == "tls":
        return (
            f"registration of {where} failed: {exc} (is the registrar address right, and is its certificate "
            "signed by a CA you trust? see --tls-ca-file)"
        )
    return f"registration of {where} failed: {exc} (is the registrar address and transport right?)"


def load_utterance(line: str, synth: Synth) -> Utterance:
    """``@path.wav`` plays a file; anything else is spoken by TTS. Raises ValueError or TtsUnavailable."""
    if line.startswith("@"):
        path = Path(line[1:]).expanduser()
        return Utterance({"file": path.name}, read_wav_pcm(path))
    return Utterance({"text": line}, synth(line))


class PhoneRunner:
    def __init__(
        self,
        engine: PhoneEngine,
        account: PhoneAccount,
        options: PhoneOptions,
        emit: Emit,
        *,
        synth: Synth = synthesize,
        transcriber: Transcriber | None = None,
    ) -> None:
        self.engine = engine
        self.account = account
        self.options = options
        self._emit = emit
        self.synth = synth
        self.transcriber = transcriber
        self.commands: asyncio.Queue[str] = asyncio.Queue()
        self.media: CallMedia | None = None
        self.state = "starting"
        self._started = time.monotonic()
        self._call_started = 0.0
        self._next_line = 0
        self._line_due: float | None = None
        self._greeting_done = False
        self._hangup_by = ""
        self._ringing: asyncio.Task[None] | None = None
        self._calls = 0

    def emit(self, line: dict[str, Any]) -> None:
        stamped = {"kind": line["kind"], "time": datetime.now(UTC).isoformat(timespec="milliseconds")}
        stamped.update(line)
        self._emit(stamped)

    # -- whole life ------------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> int:
        """Register, serve calls until ``stop`` (or one call with ``once``), then clean up. 0 or 1."""
        try:
            await self.engine.start()
        except Exception as exc:  # the native stack could not start: say so in one line, not a traceback
            self.emit(
                {"kind": "error", "stage": "start", "message": f"the {self.engine.name} engine did not start: {exc}"}
            )
            await self.engine.close()
            return 1
        try:
            await self.engine.register()
        except RegistrationFailed as exc:
            self.emit(
                {
                    "kind": "error",
                    "stage": "register",
                    "status": exc.status,
                    "message": registration_message(self.account, exc),
                }
            )
            await self.engine.close()
            return 1
        try:
            await self._serve(stop)
        finally:
            await self._shutdown()
        return 0

    async def _serve(self, stop: asyncio.Event) -> None:
        # The waits live across ticks: re-creating them 50 times a second would cost more than the audio.
        stopper = asyncio.ensure_future(stop.wait())
        event_task = asyncio.ensure_future(self.engine.events.get())
        command_task = asyncio.ensure_future(self.commands.get())
        next_tick = time.monotonic()
        try:
            while not stop.is_set():
                timeout = max(0.0, next_tick - time.monotonic()) if self.media is not None else None
                done, _ = await asyncio.wait(
                    {event_task, command_task, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                if event_task in done:
                    event = event_task.result()
                    event_task = asyncio.ensure_future(self.engine.events.get())
                    await self._on_event(event)
                    if self.options.once and self._calls and self.media is None and self.state == "registered":
                        return
                if command_task in done:
                    command = command_task.result()
                    command_task = asyncio.ensure_future(self.commands.get())
                    await self._on_command(command)
                if self.media is not None and time.monotonic() >= next_tick:
                    await self._tick()
                    # A fixed 20 ms grid; after a stall, catch up from now rather than burst.
                    next_tick = max(next_tick + TICK, time.monotonic() - TICK)
        finally:
            for task in (stopper, event_task, command_task):
                task.cancel()

    async def _shutdown(self) -> None:
        if self.media is not None or self.state in ("ringing",):
            self._hangup_by = self._hangup_by or "local"
            await self.engine.hangup()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._until_closed(), 3.0)
        await self.engine.unregister()
        self.emit({"kind": "unregistered", "extension": self.account.user})
        await self.engine.close()

    async def _until_closed(self) -> None:
        while self.media is not None or self.state == "ringing":
            await self._on_event(await self.engine.events.get())

    # -- engine events ---------------------------------------------------------------------------------
    async def _on_event(self, event: EngineEvent) -> None:
        if event.kind == "registered":
            self.state = "registered"
            self.emit(
                {
                    "kind": "registered",
                    "extension": self.account.user,
                    "domain": self.account.domain,
                    "transport": self.account.transport,
                    "srtp": self.account.srtp,
                    "engine": self.engine.name,
                }
            )
        elif event.kind == "incoming":
            self.state = "ringing"
            self.emit({"kind": "incoming", "from": event.peer, "call_id": event.call_id, "answer": self.options.answer})
            if self.options.answer != "manual":
                self._ringing = asyncio.ensure_future(self._answer_later(self.options.answer))
        elif event.kind == "answered":
            self._start_call()
        elif event.kind == "closed":
            await self._end_call(event.detail)

    async def _answer_later(self, how: str) -> None:
        await asyncio.sleep(self.options.answer_delay)
        if self.state != "ringing":
            return
        if how == "reject":
            self._hangup_by = "local"
            await self.engine.reject()
        else:
            await self.engine.answer()

    def _start_call(self) -> None:
        self.state = "in_call"
        self._calls += 1
        self._call_started = time.monotonic()
        self._next_line = 0
        self._greeting_done = False
        self._hangup_by = ""
        self._last_rtp = self._call_started
        record_to = None
        if self.options.record_dir is not None:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            base = self.options.record_dir / f"{stamp}-{self.account.user}-{self._calls}"
            record_to = (Path(f"{base}-heard.wav"), Path(f"{base}-said.wav"))
        self.media = CallMedia(
            self.engine,
            self.emit,
            threshold_dbfs=self.options.threshold_dbfs,
            record_to=record_to,
            transcriber=self.transcriber,
            on_heard=self._on_heard,
            on_said_end=self._on_said_end,
        )
        self._line_due = self.options.cue_seconds if self.options.cue == "seconds" else None
        self.emit({"kind": "answered", "engine": self.engine.name})

    async def _end_call(self, reason: str) -> None:
        media, self.media = self.media, None
        was_ringing = self.state == "ringing"
        self.state = "registered"
        if self._ringing is not None:
            self._ringing.cancel()
            self._ringing = None
        line: dict[str, Any] = {"kind": "hangup", "by": self._hangup_by or "remote", "reason": reason}
        if media is not None:
            self._emit_rtp()
            line["duration"] = round(media.elapsed, 3)
            line["heard_segments"] = len(media.heard_segments)
            line["recordings"] = await media.close()
        elif was_ringing:
            line["answered"] = False
            self._calls += 1
        self.emit(line)

    # -- during a call ---------------------------------------------------------------------------------
    async def _tick(self) -> None:
        media = self.media
        assert media is not None
        media.tick()
        elapsed = media.elapsed
        if self._line_due is not None and elapsed >= self._line_due and not media.speaking:
            self._line_due = None
            self._say_next()
        if elapsed - (self._last_rtp - self._call_started) >= self.options.rtp_interval:
            self._last_rtp = time.monotonic()
            self._emit_rtp()
        if self.options.hangup_after and elapsed >= self.options.hangup_after and not self._hangup_by:
            self._hangup_by = "local"
            await self.engine.hangup()

    def _emit_rtp(self) -> None:
        stats = self.engine.stats()
        line: dict[str, Any] = {
            "kind": "rtp",
            "rx_packets": stats.rx_packets,
            "tx_packets": stats.tx_packets,
            "rx_lost": stats.rx_lost,
            "rx_loss_pct": stats.rx_loss_pct,
            "rx_jitter_ms": stats.rx_jitter_ms,
        }
        media = self.media
        if media is not None:
            # The engine's counts come with RTCP (seconds apart); these move every tick.
            line["rx_audio_s"] = round(media.rx_bytes / (2 * SAMPLE_RATE), 2)
            line["tx_speech_s"] = round(media.tx_speech_frames * FRAME, 2)
            line["rx_level_dbfs"] = round(media.rx_level_dbfs, 1)
            line["tx_level_dbfs"] = round(media.tx_level_dbfs, 1)
        self.emit(line)

    def _on_heard(self, segment: Segment) -> None:
        if self.media is None:
            return
        if self.options.cue == "utterance" or (self.options.cue == "greeting" and not self._greeting_done):
            self._greeting_done = True
            if not self.media.speaking and self._line_due is None:
                self._line_due = self.media.elapsed + 0.2

    def _on_said_end(self) -> None:
        if self.media is not None and self.options.cue in ("greeting", "seconds"):
            self._line_due = self.media.elapsed + self.options.gap

    def _say_next(self) -> None:
        if self._next_line >= len(self.options.lines) or self.media is None:
            return
        line = self.options.lines[self._next_line]
        self._next_line += 1
        self._say(line)

    def _say(self, line: str) -> None:
        assert self.media is not None
        try:
            self.media.say(load_utterance(line, self.synth))
        except Exception as exc:  # a bad file or missing TTS must not end the call
            self.emit({"kind": "error", "stage": "say", "message": str(exc)})

    # -- commands (stdin) ------------------------------------------------------------------------------
    async def _on_command(self, command: str) -> None:
        verb, _, rest = command.strip().partition(" ")
        verb = verb.lower()
        if verb in ("", "answer", "a") and self.state == "ringing":
            await self.engine.answer()
        elif verb in ("reject", "r") and self.state == "ringing":
            self._hangup_by = "local"
            await self.engine.reject()
        elif verb in ("hangup", "h") and self.media is not None:
            self._hangup_by = "local"
            await self.engine.hangup()
        elif verb == "say" and rest and self.media is not None:
            self._say(rest)
        elif verb:
            self.emit({"kind": "error", "stage": "command", "message": f"cannot {verb!r} now (state {self.state})"})
