"""Settings of the VoIPBIN sandbox.

This module is imported by the application config (as its ``[sandbox]`` table), so it must stay cheap:
pydantic and the standard library only, never starlette or uvicorn.

Durations named in seconds are *simulated* seconds unless the description says "wall-clock": the engine
divides every simulated duration by ``speed``, so ``speed = 20`` runs a 60 s call in 3 s.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_CALLER_LINE = "Hi, this is a test of the transcription feature."

# Fixed, documented SIP passwords of the seed extensions (docs/sandbox.md, "SIP side").
SEED_PASSWORDS = {"quickstart-phone": "quickstart-secret", "2000": "secret-2000"}

AnswerMode = Literal["auto", "manual", "reject"]
FrameShape = Literal["bare", "wrapped", "documented"]
OffsetField = Literal["tm_transcript", "offset_ms", "both"]


class ExtensionSeed(BaseModel):
    """One seeded SIP extension and the simulated softphone registered on it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Display name (`name` field of the extension).")
    extension: str = Field(
        min_length=1,
        description="SIP username (`extension` field); an `extension` destination dials by this value.",
    )
    detail: str = Field(default="", description="Free text `detail` field.")
    password: str | None = Field(
        default=None,
        description="SIP password (GET /extensions; the SIP registrar checks it); random when unset.",
    )
    registered: bool = Field(
        default=True,
        description="Whether a softphone is registered; dialing an unregistered extension fails with 500.",
    )


def _default_extensions() -> list[ExtensionSeed]:
    return [
        ExtensionSeed(
            name="quickstart-phone",
            extension="quickstart-phone",
            detail="Quickstart softphone extension",
            password=SEED_PASSWORDS["quickstart-phone"],
        ),
        ExtensionSeed(
            name="Extension 2000", extension="2000", detail="Second test extension", password=SEED_PASSWORDS["2000"]
        ),
    ]


class SandboxSettings(BaseModel):
    """Every knob of the sandbox; also the ``[sandbox]`` table of the console's config file."""

    model_config = ConfigDict(extra="forbid")

    # --- serving -------------------------------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Address the standalone server binds.")
    port: int = Field(default=8765, ge=0, le=65535, description="Port of the standalone server (0 = OS-chosen).")
    speed: float = Field(default=1.0, gt=0, description="Simulation speed; every simulated duration is divided by it.")
    max_connections: int = Field(
        default=256,
        ge=1,
        description="Open client connections at most; more are answered 503 and closed at once "
        "(lowered automatically to stay below the open-file limit).",
    )
    backlog: int = Field(default=128, ge=1, description="Listen backlog of the server socket.")
    header_timeout: float = Field(
        default=10.0, gt=0, description="Wall-clock seconds for a request head to arrive in full before the close."
    )
    body_timeout: float = Field(
        default=30.0, gt=0, description="Wall-clock seconds for a request body to arrive in full (else 408)."
    )
    idle_timeout: float = Field(
        default=5.0, gt=0, description="Wall-clock seconds an idle keep-alive connection stays open."
    )
    max_body_bytes: int = Field(
        default=1 << 20, ge=1024, description="Largest request body accepted; larger ones are answered 413."
    )
    max_header_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Largest request head (request line and headers) accepted."
    )

    # --- the softphone -------------------------------------------------------------------------
    ring_delay: float = Field(default=1.0, ge=0, description="Seconds from call creation (dialing) to ringing.")
    answer_delay: float = Field(
        default=3.0, ge=0, description="Seconds of ringing before the phone answers (or rejects)."
    )
    answer_mode: AnswerMode = Field(
        default="auto",
        description="auto: answer after answer_delay; manual: wait for the control API; "
        "reject: decline after answer_delay (hangup_reason busy).",
    )
    caller_script: list[str] = Field(
        default_factory=lambda: [DEFAULT_CALLER_LINE],
        description="Lines the phone says once the greeting has played, one after another.",
    )
    caller_delay: float = Field(
        default=2.0,
        ge=0,
        description="Seconds after the greeting ends (or the previous line) before the phone speaks.",
    )
    hangup_after_script: float | None = Field(
        default=None,
        ge=0,
        description="If set, the phone hangs up (remote, normal) this many seconds after its last line.",
    )

    # --- speech --------------------------------------------------------------------------------
    transcribe_speaking: bool = Field(
        default=True, description="Whether Speaking API audio shows up as `out` transcripts."
    )
    talk_ms_per_char: float = Field(
        default=60.0, gt=0, description="Simulated speaking time per character of text, in ms."
    )
    interim_interval: float = Field(
        default=0.3, gt=0, description="Seconds between transcribe_speech_interim events while speaking."
    )
    stt_final_delay_min: float = Field(
        default=0.5, ge=0, description="Minimum seconds from the end of a sentence to its final result."
    )
    stt_final_delay_max: float = Field(
        default=1.5, ge=0, description="Maximum seconds from the end of a sentence to its final result."
    )
    transcribe_stream_limit: float | None = Field(
        default=305.0,
        ge=0,
        description="Seconds a live STT stream of provider '' or 'gcp' lasts before it silently stops "
        "(Google's 5-minute streaming cap; the transcribe stays progressing). 0 or unset = unlimited; "
        "provider 'aws' is never limited.",
    )
    transcript_offset_field: OffsetField = Field(
        default="tm_transcript",
        description="Offset field(s) transcripts carry: tm_transcript (the server code), offset_ms "
        "(newer official clients expect it), or both.",
    )
    sentence_gap: float = Field(default=0.4, ge=0, description="Pause between spoken sentences, seconds.")
    tts_first_audio_delay: float = Field(
        default=0.3, ge=0, description="Seconds from /say (or talk start) to the first audio."
    )
    speaking_start_delay: float = Field(
        default=0.3, ge=0, description="Seconds POST /speakings takes to bring the session up."
    )

    # --- call engine ---------------------------------------------------------------------------
    leg_create_delay: float = Field(
        default=0.05,
        ge=0,
        description="Seconds after the POST /calls response before a groupcall leg record exists.",
    )
    hangup_delay: float = Field(default=0.2, ge=0, description="Seconds from terminating/canceling to hangup.")
    transcribe_stop_delay: float = Field(default=0.2, ge=0, description="Seconds from call_hangup to transcribe_done.")
    dial_timeout: float = Field(
        default=60.0, gt=0, description="Seconds from dialing until an unanswered call gives up (remote, dialout)."
    )
    max_call_duration: float = Field(
        default=3600.0, gt=0, description="Seconds after answer before the call is cut (timeout)."
    )

    # --- SIP side -------------------------------------------------------------------------------
    sip: bool = Field(
        default=False,
        description="Run the SIP side: a registrar for the extensions, INVITEs to registered phones, RTP audio. "
        "SIP mode runs in real time: speed is then 1 whatever it is set to.",
    )
    sip_port: int = Field(
        default=5060, ge=0, le=65535, description="SIP port for both UDP and TCP (standalone; 0 = OS-chosen)."
    )
    sip_tls_port: int = Field(
        default=5061, ge=0, le=65535, description="SIP over TLS port when a certificate is given (standalone)."
    )
    sip_tls_cert: str | None = Field(
        default=None, description="PEM certificate file; SIP over TLS needs it and the key."
    )
    sip_tls_key: str | None = Field(default=None, description="PEM private key file of sip_tls_cert.")
    sip_public_host: str | None = Field(
        default=None,
        description="Address written into SIP and SDP (Via, Contact, c=); default: host. Needed when host is 0.0.0.0.",
    )
    sip_srtp: Literal["tls", "always", "never"] = Field(
        default="tls",
        description="When the sandbox's INVITE requires SDES-SRTP (RTP/SAVP with a=crypto keys): on TLS calls, "
        "as VoIPBIN does; on every call; or never (plain RTP/AVP). SRTP needs the srtp extra (pylibsrtp).",
    )
    sip_tts: bool = Field(
        default=True,
        description="Speak text with eSpeak NG when the optional tts extra is installed; false: always tone bursts.",
    )

    # --- event channel -------------------------------------------------------------------------
    frame_shape: FrameShape = Field(
        default="bare",
        description="WebSocket frame shape: bare resource (real server), wrapped {type,data}, "
        "or documented {event_type,timestamp,topic,data}.",
    )
    reorder: bool = Field(default=False, description="Deliver events with random small delays so their order varies.")
    reorder_jitter_ms: float = Field(
        default=50.0, ge=0, description="Maximum extra delivery delay when reordering, wall-clock ms."
    )
    ping_interval: float = Field(
        default=10.0, gt=0, description="Wall-clock seconds between WebSocket pings (not scaled)."
    )
    pong_timeout: float = Field(
        default=60.0,
        gt=0,
        description="Wall-clock seconds without a pong before the socket is dropped (not scaled).",
    )
    ws_buffer_frames: int = Field(
        default=2000, ge=1, description="Frames queued per WebSocket before new ones are dropped."
    )

    aggregated_events: bool = Field(
        default=True,
        description="Serve GET /aggregated-events; off, the route answers 404 like a server without it.",
    )

    # --- seed data -----------------------------------------------------------------------------
    accesskey: str | None = Field(default=None, description="Accesskey token (must start with vb_); random when unset.")
    customer_id: str | None = Field(default=None, description="Customer UUID; random when unset.")
    customer_name: str = Field(default="Sandbox Customer", description="Customer `name`.")
    customer_email: str = Field(default="admin@localhost", description="Customer `email`.")
    identity_verified: bool = Field(
        default=True,
        description="Customer identity verification; when false, tel destinations get 403.",
    )
    username: str = Field(default="admin@localhost", description="Login username (admin agent).")
    password: str = Field(default="admin@localhost", description="Login password (admin agent).")
    numbers: list[str] = Field(
        default_factory=lambda: ["+15551234567", "+15557654321"],
        description="Owned phone numbers (type normal, status active).",
    )
    extensions: list[ExtensionSeed] = Field(
        default_factory=_default_extensions, description="Seeded extensions and their softphones."
    )
    random_seed: int | None = Field(
        default=None, description="Seed of the simulator's randomness (timings, jitter); random if unset."
    )

    @field_validator("accesskey")
    @classmethod
    def _accesskey_prefix(cls, value: str | None) -> str | None:
        if value is not None and (not value.startswith("vb_") or len(value) < 4):
            raise ValueError("an accesskey starts with 'vb_' followed by at least one character")
        return value

    @field_validator("customer_id")
    @classmethod
    def _customer_uuid(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parsed = uuid.UUID(value)
        if parsed.int == 0:
            raise ValueError("the customer id must not be the nil UUID")
        return str(parsed)

    @property
    def effective_speed(self) -> float:
        """SIP audio is real time, so the SIP side runs the whole sandbox at speed 1."""
        return 1.0 if self.sip else self.speed

    @model_validator(mode="after")
    def _final_delay_order(self) -> SandboxSettings:
        if (self.sip_tls_cert is None) != (self.sip_tls_key is None):
            raise ValueError("sip_tls_cert and sip_tls_key go together")
        if self.stt_final_delay_max < self.stt_final_delay_min:
            raise ValueError("stt_final_delay_max must be >= stt_final_delay_min")
        seen: set[str] = set()
        for ext in self.extensions:
            if ext.extension in seen:
                raise ValueError(f"duplicate extension {ext.extension!r}")
            seen.add(ext.extension)
        return self
