"""Speaking API: streaming TTS sessions attached to a call.

Faithful points: creation is synchronous and returns 201 already ``active``; a second non-stopped
session on the same call, an unknown call or a call without live media is 500 INTERNAL; say/flush
failures are all 404 RESOURCE_NOT_FOUND; stop is idempotent; call hangup does *not* stop a session
(its status stays ``active``), but its audio is gone, so a later say or flush gets 404.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui.sandbox import errors
from tui.sandbox.calls import LIVE_STATUSES
from tui.sandbox.encoding import new_id, parse_uuid
from tui.sandbox.models import Speaking
from tui.sandbox.requests import opt_str
from tui.sandbox.speech import SpeechQueue

if TYPE_CHECKING:
    from tui.sandbox.core import SandboxCore

MAX_SAY_BYTES = 5000


@dataclass
class SpeakingRuntime:
    speaking: Speaking
    queue: SpeechQueue | None = None
    media_gone: bool = False


def _audio_direction(direction: str) -> str:
    # "in" is injected into what the call's party sends; "out"/"both" reach the party itself.
    return "in" if direction == "in" else "out"


class SpeakingService:
    def __init__(self, core: SandboxCore) -> None:
        self.core = core
        self.runtimes: dict[str, SpeakingRuntime] = {}

    async def create(self, body: dict[str, Any]) -> Speaking:
        reference_type = opt_str(body, "reference_type") or ""
        reference_text = opt_str(body, "reference_id") or ""
        language = opt_str(body, "language") or ""
        provider = opt_str(body, "provider") or ""
        voice_id = opt_str(body, "voice_id") or ""
        direction = opt_str(body, "direction") or ""
        if reference_type not in ("call", "confbridge"):
            raise errors.invalid_argument("The provided reference_type is not valid.")
        reference = parse_uuid(reference_text)
        if reference is None or reference.int == 0:
            raise errors.invalid_argument("The provided reference_id is not a valid UUID.")
        if direction not in ("", "in", "out", "both"):
            raise errors.invalid_argument("The provided direction is not valid.")
        reference_id = str(reference)

        # tts-manager: refuse a duplicate, insert as initiating, start the media, then go active.
        for runtime in self.runtimes.values():
            existing = runtime.speaking
            if (
                existing.reference_id == reference_id
                and existing.reference_type == reference_type
                and existing.status != "stopped"
            ):
                raise errors.internal()
        call = self.core.store.calls.get(reference_id) if reference_type == "call" else None
        if call is None or call.status not in LIVE_STATUSES:
            raise errors.internal()
        speaking = Speaking(
            id=new_id(),
            customer_id=self.core.customer_id,
            reference_type=reference_type,
            reference_id=reference_id,
            language=language,
            provider=provider or "elevenlabs",
            voice_id=voice_id,
            direction=direction,
            tm_create=self.core.store.stamp(),
        )
        self.core.store.speakings[speaking.id] = speaking
        runtime = SpeakingRuntime(speaking)
        self.runtimes[speaking.id] = runtime
        await self.core.clock.sleep(self.core.settings.speaking_start_delay)
        if call.status not in LIVE_STATUSES:
            # The channel went away while the media was being set up.
            speaking.status = "stopped"
            speaking.tm_update = self.core.store.stamp()
            raise errors.internal()
        runtime.queue = SpeechQueue(
            self.core,
            call.id,
            _audio_direction(direction),
            first_audio_delay=self.core.settings.tts_first_audio_delay,
            transcribed=lambda: self.core.settings.transcribe_speaking and direction != "",
        )
        speaking.status = "active"
        speaking.tm_update = self.core.store.stamp()
        return speaking

    def get(self, speaking_id: str) -> Speaking:
        speaking = self.core.store.speakings.get(speaking_id)
        if speaking is None:
            raise errors.resource_not_found()
        return speaking

    def say(self, speaking_id: str, text: str) -> Speaking:
        runtime = self._live(speaking_id)
        before = copy.copy(runtime.speaking)
        assert runtime.queue is not None
        runtime.queue.say(text)
        return before

    def flush(self, speaking_id: str) -> Speaking:
        runtime = self._live(speaking_id)
        before = copy.copy(runtime.speaking)
        assert runtime.queue is not None
        runtime.queue.flush()
        return before

    def stop(self, speaking_id: str) -> Speaking:
        speaking = self.get(speaking_id)
        if speaking.status == "stopped":
            return speaking
        runtime = self.runtimes.get(speaking_id)
        if runtime is not None and runtime.queue is not None:
            runtime.queue.close()
        speaking.status = "stopped"
        speaking.tm_update = self.core.store.stamp()
        return speaking

    def delete(self, speaking_id: str) -> Speaking:
        speaking = self.get(speaking_id)
        if speaking.status != "stopped":
            self.stop(speaking_id)
        # tts-manager stamps both and has no already-deleted guard: a second DELETE re-stamps them.
        now = self.core.store.stamp()
        speaking.tm_delete = now
        speaking.tm_update = now
        return speaking

    def media_gone(self, call_id: str) -> None:
        """The call's channel is gone: audio stops, the record stays as it was."""
        for runtime in self.runtimes.values():
            if runtime.speaking.reference_id == call_id and not runtime.media_gone:
                runtime.media_gone = True
                if runtime.queue is not None:
                    runtime.queue.close()

    def _live(self, speaking_id: str) -> SpeakingRuntime:
        self.get(speaking_id)
        runtime = self.runtimes.get(speaking_id)
        if runtime is None or runtime.queue is None or runtime.media_gone or runtime.speaking.status != "active":
            raise errors.resource_not_found()
        return runtime
