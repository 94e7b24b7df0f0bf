"""What to dial and how it becomes a ``POST /calls`` body (the seed scenario by default)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from tui.voipbin.models import sleep_action, talk_action, transcribe_start_action

DestinationType = Literal["extension", "tel", "sip"]

SEED_SOURCE = "+15551234567"
SEED_DESTINATION = "quickstart-phone"
SEED_GREETING = (
    "Hello. This is the VoIPBIN real-time voice interaction test. You can speak now and your speech "
    "will be transcribed. The call will stay open for you to test the Speaking API."
)

TRANSCRIBE_PROVIDERS = ("", "gcp", "aws")

_TEL = re.compile(r"^\+[1-9]\d{6,14}$")
# BCP 47 as VoIPBIN's transcribers take it: language, optional script, optional region ("en-US",
# "cmn-Hans-CN", "es-419"). A three-letter region such as "en-USK" is a typo, not a language.
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|\d{3}))?$")


def destination_type(destination: str, declared: str = "auto") -> DestinationType:
    """``auto``: ``+…`` is tel, ``sip:…`` or ``user@host`` is sip, anything else is an extension.

    Any leading ``+`` means a phone number, valid or not, so that ``+12`` is refused as a bad E.164
    number instead of being dialled as an extension named "+12".
    """
    if declared in ("extension", "tel", "sip"):
        return declared  # type: ignore[return-value]
    value = destination.strip()
    if value.startswith("+"):
        return "tel"
    if value.lower().startswith("sip:") or "@" in value:
        return "sip"
    return "extension"


def destination_address(destination: str, declared: str = "auto") -> dict[str, str]:
    kind = destination_type(destination, declared)
    value = destination.strip()
    if kind == "extension":
        # The server looks the contact up by target_name used as the extension's `extension` field.
        return {"type": "extension", "target_name": value}
    if kind == "sip":
        return {"type": "sip", "target": value[4:] if value.lower().startswith("sip:") else value}
    return {"type": "tel", "target": value}


def source_address(source: str) -> dict[str, str]:
    value = source.strip()
    if "@" in value or value.lower().startswith("sip:"):
        return {"type": "sip", "target": value[4:] if value.lower().startswith("sip:") else value}
    return {"type": "tel", "target": value}


@dataclass(frozen=True, slots=True)
class DialRequest:
    source: str = SEED_SOURCE
    destination: str = SEED_DESTINATION
    destination_type: str = "auto"
    language: str = "en-US"
    greeting: str = SEED_GREETING
    sleep_ms: int = 600_000
    transcribe: bool = True
    transcribe_direction: str = "both"
    # "" lets VoIPBIN choose (Google first, whose streams stop after ~5 minutes); "aws" has no such limit.
    transcribe_provider: str = ""
    # A scenario file's own action list, sent as given instead of the transcribe/talk/sleep trio above.
    custom_actions: tuple[dict[str, Any], ...] | None = None

    @property
    def kind(self) -> DestinationType:
        return destination_type(self.destination, self.destination_type)

    def problems(self) -> list[str]:
        """Mistakes worth stopping for before anything is sent."""
        out = []
        if not self.destination.strip():
            out.append("destination is empty")
        if not self.source.strip():
            out.append("source is empty")
        if self.kind == "tel" and not _TEL.match(self.destination.strip()):
            out.append(
                f"destination {self.destination.strip()!r} is not E.164: + and 7 to 15 digits, e.g. +15551234567"
            )
        source = self.source.strip()
        if source and source_address(source)["type"] == "tel" and not _TEL.match(source):
            out.append(f"source {source!r} is not E.164: + and 7 to 15 digits, one of yours (see GET /numbers)")
        if not _LANGUAGE.match(self.language.strip()):
            out.append(f"language {self.language.strip()!r} is not a BCP 47 tag such as en-US or ko-KR")
        if self.transcribe_provider not in TRANSCRIBE_PROVIDERS:
            out.append("transcribe provider must be empty (VoIPBIN's choice), gcp or aws")
        if self.sleep_ms < 0:
            out.append("sleep must not be negative")
        return out

    def actions(self) -> list[dict[str, Any]]:
        if self.custom_actions is not None:
            return [dict(a) for a in self.custom_actions]
        actions: list[dict[str, Any]] = []
        if self.transcribe:
            actions.append(
                transcribe_start_action(
                    self.language, direction=self.transcribe_direction, provider=self.transcribe_provider or None
                )
            )
        if self.greeting.strip():
            actions.append(talk_action(self.greeting.strip(), language=self.language))
        if self.sleep_ms > 0:
            actions.append(sleep_action(self.sleep_ms))
        return actions

    def body(self) -> dict[str, Any]:
        return {
            "source": source_address(self.source),
            "destinations": [destination_address(self.destination, self.destination_type)],
            "actions": self.actions(),
        }
