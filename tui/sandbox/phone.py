"""The simulated softphone at the far end of a call leg.

It rings, then answers after ``answer_delay`` (``auto``), waits for the control API (``manual``) or
declines (``reject``). Once the call's greeting has played it says the lines of ``caller_script``,
``caller_delay`` apart, into the ``in`` direction of the call; the control API can make it say more.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

from tui.sandbox.settings import AnswerMode
from tui.sandbox.speech import SpeechQueue

if TYPE_CHECKING:
    from tui.sandbox.calls import CallRuntime
    from tui.sandbox.core import SandboxCore


class CallPhone(Protocol):
    """What the call engine asks of the phone at the far end (this simulated one, or a SIP leg)."""

    @property
    def simulated_ringing(self) -> bool: ...

    def ringing(self) -> None: ...

    def greeting_done(self) -> None: ...

    def speak(self, text: str) -> None: ...

    def close(self) -> None: ...


class Softphone:
    simulated_ringing = True

    def __init__(self, core: SandboxCore, runtime: CallRuntime, answer_mode: AnswerMode) -> None:
        self.core = core
        self.runtime = runtime
        self.answer_mode: AnswerMode = answer_mode
        self.voice = SpeechQueue(core, runtime.call.id, "in", first_audio_delay=0.0, transcribed=lambda: True)
        self._timer: asyncio.TimerHandle | None = None
        self._script: asyncio.Task[None] | None = None

    def ringing(self) -> None:
        """The phone starts ringing; in auto/reject mode it decides after ``answer_delay``."""
        delay = self.core.settings.answer_delay
        if self.answer_mode == "auto":
            self._timer = self.core.later(delay, self.core.calls.decide_later, self.runtime.call, "answer")
        elif self.answer_mode == "reject":
            self._timer = self.core.later(delay, self.core.calls.decide_later, self.runtime.call, "reject")

    def greeting_done(self) -> None:
        if self._script is None:
            self._script = self.core.spawn(self._run_script())

    def speak(self, text: str) -> None:
        self.voice.say(text)

    async def _run_script(self) -> None:
        settings = self.core.settings
        for line in settings.caller_script:
            await self.core.clock.sleep(settings.caller_delay)
            self.voice.say(line)
            await self.voice.wait_idle()
        if settings.hangup_after_script is not None:
            await self.core.clock.sleep(settings.hangup_after_script)
            if self.runtime.call.status == "progressing":
                self.core.calls.remote_hangup(self.runtime.call)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._script is not None and self._script is not asyncio.current_task():
            self._script.cancel()
        self.voice.close()
