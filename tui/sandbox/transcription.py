"""Transcribe sessions: created ``progressing``, ended ``done``, with one STT stream per direction."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tui.sandbox.encoding import ZERO_UUID, new_id
from tui.sandbox.models import Transcribe

if TYPE_CHECKING:
    from tui.sandbox.core import SandboxCore

_BCP47 = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")
DIRECTIONS = ("both", "in", "out")
PROVIDERS = ("", "gcp", "aws")


def normalize_language(language: str) -> str:
    """BCP 47 casing (``en-us`` -> ``en-US``); empty or unparseable becomes ``en-US``."""
    if not language or not _BCP47.match(language):
        return "en-US"
    parts = re.split(r"[-_]", language)
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


def normalize_direction(direction: str) -> str:
    return direction if direction in DIRECTIONS else "both"


class TranscriptionService:
    def __init__(self, core: SandboxCore) -> None:
        self.core = core

    def progressing_for(self, call_id: str, language: str) -> Transcribe | None:
        for transcribe in self.core.store.transcribes.values():
            if (
                transcribe.reference_id == call_id
                and transcribe.language == language
                and transcribe.status == "progressing"
                and transcribe.tm_delete is None
            ):
                return transcribe
        return None

    def start(
        self,
        *,
        call_id: str,
        language: str,
        direction: str,
        provider: str,
        activeflow_id: str = ZERO_UUID,
        on_end_flow_id: str = ZERO_UUID,
    ) -> Transcribe:
        transcribe = Transcribe(
            id=new_id(),
            customer_id=self.core.customer_id,
            activeflow_id=activeflow_id,
            on_end_flow_id=on_end_flow_id,
            reference_type="call",
            reference_id=call_id,
            language=normalize_language(language),
            direction=normalize_direction(direction),
            provider=provider if provider in PROVIDERS else "",
            tm_create=self.core.store.stamp(),
        )
        self.core.store.transcribes[transcribe.id] = transcribe
        self.core.speech.open_streams(transcribe)
        self.core.publish("transcribe_created", transcribe.to_json())
        return transcribe

    def stop(self, transcribe: Transcribe) -> Transcribe:
        if transcribe.status != "progressing":
            return transcribe
        # Results still in flight are delivered before transcribe_done.
        self.core.speech.close_streams(transcribe)
        transcribe.status = "done"
        transcribe.tm_update = self.core.store.stamp()
        self.core.publish("transcribe_done", transcribe.to_json())
        return transcribe

    def stop_for_call(self, call_id: str) -> None:
        for transcribe in list(self.core.store.transcribes.values()):
            if transcribe.reference_id == call_id and transcribe.status == "progressing":
                self.stop(transcribe)

    def delete(self, transcribe: Transcribe) -> Transcribe:
        if transcribe.tm_delete is not None:
            return transcribe
        self.stop(transcribe)
        now = self.core.store.stamp()
        for transcript in self.core.store.transcripts.get(transcribe.id, []):
            transcript.tm_delete = now
        transcribe.tm_delete = now
        transcribe.tm_update = now
        return transcribe
