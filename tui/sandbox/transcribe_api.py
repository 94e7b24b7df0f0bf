"""The sandbox's transcribe and transcript routes (``/v1.0/transcribes``, ``/v1.0/transcripts``).

Apart from the other handlers in ``app.py`` because the transcription side has rules of its own
(which references can be transcribed, one progressing transcribe per call and language, the newest
100 transcripts whatever the page asks for).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tui.sandbox import errors
from tui.sandbox.auth import Identity
from tui.sandbox.calls import LIVE_STATUSES
from tui.sandbox.core import SandboxCore
from tui.sandbox.encoding import parse_uuid, uuid_or_nil
from tui.sandbox.handling import json_response, page_of, path_id, query_first
from tui.sandbox.models import Transcribe
from tui.sandbox.requests import decode_object, opt_str
from tui.sandbox.store import paginate, parse_page_size
from tui.sandbox.transcription import normalize_direction, normalize_language


class TranscribeApi:
    """Transcribe and transcript handlers bound to one sandbox core."""

    def __init__(self, core: SandboxCore) -> None:
        self.core = core

    async def create_transcribe(self, request: Request, identity: Identity) -> Response:
        body = decode_object(await request.body())
        reference_type = opt_str(body, "reference_type") or ""
        reference_id = str(uuid_or_nil(opt_str(body, "reference_id")))
        language = opt_str(body, "language") or ""
        direction = opt_str(body, "direction") or ""
        provider = opt_str(body, "provider") or ""
        on_end = str(uuid_or_nil(opt_str(body, "on_end_flow_id")))
        if reference_type in ("conference", "recording"):
            # The sandbox has neither; the real server fails these lookups with a 500.
            raise errors.internal()
        if reference_type != "call":
            raise errors.invalid_argument("The request is invalid.")
        call = self.core.store.calls.get(reference_id)
        if call is None:
            raise errors.call_not_found()
        if call.tm_delete is not None:
            raise errors.state_invalid()
        if call.status not in LIVE_STATUSES:
            raise errors.internal()
        language = normalize_language(language)
        if self.core.transcription.progressing_for(call.id, language) is not None:
            raise errors.transcribe_already_progressing()
        transcribe = self.core.transcription.start(
            call_id=call.id,
            language=language,
            direction=normalize_direction(direction or "both"),
            provider=provider,
            on_end_flow_id=on_end,
        )
        return json_response(transcribe.to_json())

    async def list_transcribes(self, request: Request, identity: Identity) -> Response:
        size, token = page_of(request)
        reference_type = query_first(request, "reference_type") or ""
        raw_reference = query_first(request, "reference_id")
        reference_id = ""
        if raw_reference is not None:
            parsed = parse_uuid(raw_reference)
            if parsed is None:
                raise errors.invalid_parameter("reference_id")
            reference_id = str(parsed) if parsed.int else ""
        if bool(reference_type) != bool(reference_id):
            raise errors.invalid_reference_filter()
        items_in = (
            t
            for t in self.core.store.transcribes.values()
            if t.tm_delete is None
            and (not reference_type or (t.reference_type == reference_type and t.reference_id == reference_id))
        )
        items, next_token = paginate(items_in, lambda t: t.tm_create, size, token)
        return json_response({"result": [t.to_json() for t in items], "next_page_token": next_token})

    def _transcribe(self, request: Request) -> Transcribe:
        transcribe = self.core.store.transcribes.get(path_id(request))
        if transcribe is None:
            raise errors.transcribe_not_found()
        return transcribe

    async def get_transcribe(self, request: Request, identity: Identity) -> Response:
        return json_response(self._transcribe(request).to_json())

    async def delete_transcribe(self, request: Request, identity: Identity) -> Response:
        transcribe = self.core.transcription.delete(self._transcribe(request))
        return json_response(transcribe.to_json())

    async def stop_transcribe(self, request: Request, identity: Identity) -> Response:
        transcribe = self.core.transcription.stop(self._transcribe(request))
        return json_response(transcribe.to_json())

    async def list_transcripts(self, request: Request, identity: Identity) -> Response:
        parse_page_size(query_first(request, "page_size"))  # bound (and validated) but ignored
        raw = query_first(request, "transcribe_id")
        if raw is None:
            raise errors.missing_parameter("transcribe_id")
        transcribe = self.core.store.transcribes.get(str(uuid_or_nil(raw)))
        if transcribe is None:
            raise errors.transcribe_not_found()
        live = [t for t in self.core.store.transcripts.get(transcribe.id, []) if t.tm_delete is None]
        # Always the newest 100: page_size and page_token are ignored, the token is still filled.
        items, next_token = paginate(live, lambda t: t.tm_create, 100, None)
        return json_response({"result": [t.to_json() for t in items], "next_page_token": next_token})
