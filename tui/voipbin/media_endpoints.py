"""VoIPBIN's media resources as client methods: speakings (what we say) and transcribes (what we hear).

Apart from the call resources in ``endpoints.py``; both are mixed into
:class:`tui.voipbin.rest.VoipbinClient` through ``VoipbinEndpoints``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tui.voipbin.endpoint_base import EndpointBase, seg
from tui.voipbin.models import (
    Page,
    Speaking,
    Transcribe,
    Transcript,
)


class MediaEndpoints(EndpointBase):
    """Speakings and transcribes."""

    # ------------------------------------------------------------------ speakings

    async def create_speaking(
        self,
        reference_id: str,
        *,
        reference_type: str = "call",
        language: str | None = None,
        provider: str | None = None,
        direction: str | None = None,
        voice_id: str | None = None,
    ) -> Speaking:
        """``POST /speakings`` (201). Never retried on 5xx/transport errors."""
        body: dict[str, Any] = {"reference_type": reference_type, "reference_id": reference_id}
        for key, value in (("language", language), ("provider", provider), ("direction", direction)):
            if value is not None:
                body[key] = value
        if voice_id is not None:
            body["voice_id"] = voice_id
        return await self._send("POST", "/speakings", Speaking, body)

    async def list_speakings(self, page_size: int = 100, page_token: str | None = None) -> Page[Speaking]:
        return await self._get("/speakings", Page[Speaking], self._page_params(page_size, page_token))

    async def get_speaking(self, speaking_id: str) -> Speaking:
        return await self._get(f"/speakings/{seg(speaking_id)}", Speaking)

    async def delete_speaking(self, speaking_id: str) -> Speaking:
        return await self._send("DELETE", f"/speakings/{seg(speaking_id)}", Speaking)

    async def say(self, speaking_id: str, text: str, *, on_sent: Callable[[], None] | None = None) -> Speaking:
        """``POST /speakings/{id}/say``: queue text (at most 5000 UTF-8 bytes).

        Never retried on 5xx or transport errors: the text may already be queued. ``on_sent`` is called
        once the request has been written to the connection (before the answer), so a caller can put
        other work after the request instead of before it.
        """
        data = await self._request(
            "POST", f"/speakings/{seg(speaking_id)}/say", json_body={"text": text}, on_sent=on_sent
        )
        return self._parse(Speaking, data, "POST", "/speakings/{id}/say")

    async def flush(self, speaking_id: str) -> Speaking:
        """Drop queued text and stop current playback; the session stays active."""
        return await self._send("POST", f"/speakings/{seg(speaking_id)}/flush", Speaking)

    async def stop_speaking(self, speaking_id: str) -> Speaking:
        """End the speaking session for good (status ``stopped``; idempotent)."""
        return await self._send("POST", f"/speakings/{seg(speaking_id)}/stop", Speaking)

    # ------------------------------------------------------------------ transcribes

    async def create_transcribe(
        self,
        reference_id: str,
        *,
        reference_type: str = "call",
        language: str = "en-US",
        direction: str = "both",
        provider: str | None = None,
    ) -> Transcribe:
        body: dict[str, Any] = {
            "reference_type": reference_type,
            "reference_id": reference_id,
            "language": language,
            "direction": direction,
        }
        if provider is not None:
            body["provider"] = provider
        return await self._send("POST", "/transcribes", Transcribe, body)

    async def list_transcribes(
        self,
        *,
        reference_type: str | None = None,
        reference_id: str | None = None,
        page_size: int = 100,
        page_token: str | None = None,
    ) -> Page[Transcribe]:
        """``GET /transcribes``; ``reference_type`` and ``reference_id`` must be given together."""
        params = self._page_params(
            page_size, page_token, {"reference_type": reference_type, "reference_id": reference_id}
        )
        return await self._get("/transcribes", Page[Transcribe], params)

    async def get_transcribe(self, transcribe_id: str) -> Transcribe:
        return await self._get(f"/transcribes/{seg(transcribe_id)}", Transcribe)

    async def delete_transcribe(self, transcribe_id: str) -> Transcribe:
        return await self._send("DELETE", f"/transcribes/{seg(transcribe_id)}", Transcribe)

    async def stop_transcribe(self, transcribe_id: str) -> Transcribe:
        return await self._send("POST", f"/transcribes/{seg(transcribe_id)}/stop", Transcribe)

    async def list_transcripts(self, transcribe_id: str) -> list[Transcript]:
        """The newest 100 transcripts of a transcribe (the server ignores paging; we do not loop)."""
        page = await self._get("/transcripts", Page[Transcript], {"transcribe_id": transcribe_id})
        return page.result
