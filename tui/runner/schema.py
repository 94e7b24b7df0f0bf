"""The scenario file's schema: one pydantic model for YAML and TOML alike, exported as JSON Schema.

A step is a mapping with exactly one key, the verb (``say: "Hello"``, ``expect: {...}``); the verbs are
the console's action ids plus ``wait`` and ``expect``. Durations are seconds as numbers, or the console's
text forms (``600s``, ``10m``, ``600000ms``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from tui.config import PhoneSettings
from tui.durations import parse_sleep
from tui.sandbox.settings import SandboxSettings

DURATION_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "number", "minimum": 0, "description": "seconds"},
        {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m|h)?\s*$", "description": "600s, 10m, 600000ms"},
    ]
}


def _seconds(value: Any) -> Any:
    """Numbers are seconds; text takes the console's forms. Returns seconds as a float."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or text like 15s, 2m, 500ms")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration must not be negative")
        return float(value)
    if isinstance(value, str):
        return parse_sleep(value) / 1000.0
    raise ValueError("a duration is a number of seconds or text like 15s, 2m, 500ms")


Duration = Annotated[float, BeforeValidator(_seconds), WithJsonSchema(DURATION_SCHEMA)]

CallState = Literal["dialing", "ringing", "progressing", "terminating", "canceling", "hangup"]
SayStateName = Literal["queued", "sending", "sent", "heard", "flushed", "failed"]
ConnectionName = Literal["connected", "reconnecting", "reconnected", "closed"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# -- the call -------------------------------------------------------------------------------------------


class Destination(_Strict):
    type: Literal["extension", "tel", "sip"] = "extension"
    target: str = Field(min_length=1, description="extension (its `extension` field), E.164 number or SIP URI")


def _action_objects(value: Any) -> Any:
    """``- talk: {text: …}`` short forms become VoIPBIN's ``{"type": "talk", "option": {…}}``."""
    if not isinstance(value, list):
        return value
    out: list[Any] = []
    for item in value:
        if isinstance(item, dict) and "type" not in item and len(item) == 1:
            ((name, option),) = item.items()
            if name == "sleep":
                option = {"duration": round(_seconds(option) * 1000)}
            elif option is None:
                option = {}
            if not isinstance(option, dict):
                raise ValueError(f"the option of action {name!r} must be a mapping")
            out.append({"type": name, "option": option})
        else:
            out.append(item)
    return out


class Action(_Strict):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(min_length=1)
    option: dict[str, Any] = Field(default_factory=dict)


_ACTIONS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "anyOf": [
            {
                "type": "object",
                "properties": {"type": {"type": "string", "minLength": 1}, "option": {"type": "object"}},
                "required": ["type"],
                "additionalProperties": False,
            },
            {"type": "object", "minProperties": 1, "maxProperties": 1, "not": {"required": ["type"]}},
        ]
    },
}


class CallSpec(_Strict):
    source: str = Field(default="+15551234567", description="source number (E.164) or SIP address")
    destination: Destination | str = Field(
        default_factory=lambda: Destination(target="quickstart-phone"),
        description="{type, target}, or a string (E.164 is tel, sip:… is SIP, else an extension)",
    )
    language: str = "en-US"
    actions: Annotated[list[Action], BeforeValidator(_action_objects), WithJsonSchema(_ACTIONS_SCHEMA)] = Field(
        default_factory=list,
        description="the call's flow: `- talk: {text: …}` or VoIPBIN's {type, option} objects; sleep takes a duration",
    )


# -- steps ----------------------------------------------------------------------------------------------


class TextArg(_Strict):
    text: str = Field(min_length=1)


def _text_arg(value: Any) -> Any:
    return {"text": value} if isinstance(value, str) else value


_TEXT_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "properties": {"text": {"type": "string", "minLength": 1}},
            "required": ["text"],
            "additionalProperties": False,
        },
    ]
}
Text = Annotated[TextArg, BeforeValidator(_text_arg), WithJsonSchema(_TEXT_SCHEMA)]


class NoArg(_Strict):
    pass


def _no_arg(value: Any) -> Any:
    return {} if value is None else value


Empty = Annotated[
    NoArg,
    BeforeValidator(_no_arg),
    WithJsonSchema({"anyOf": [{"type": "null"}, {"type": "object", "maxProperties": 0}]}),
]


class FaultArg(_Strict):
    """Every fault of the sandbox control API (``POST /_sandbox/faults``)."""

    drop_websockets: bool | None = None
    http_error_rate: float | None = Field(default=None, ge=0, le=1)
    latency_ms: float | None = Field(default=None, ge=0, le=60_000)
    expire_tokens: bool | None = None
    reorder: bool | None = None
    frame_shape: Literal["bare", "wrapped", "documented"] | None = None
    reset: bool | None = None

    def body(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class Expect(_Strict):
    """One expectation; exactly one subject: call, transcript, say, connection or request."""

    call: CallState | None = None
    by: Literal["local", "remote"] | None = None
    reason: str | None = Field(default=None, description="hangup reason (call) or VoIPBIN reason (request)")

    transcript: Literal["in", "out"] | None = None
    contains: str | None = Field(default=None, description="case- and punctuation-insensitive")
    regex: str | None = None
    fuzzy: str | None = None
    score_min: float = Field(default=80.0, ge=0, le=100, description="rapidfuzz partial ratio, 0..100")
    text: str | None = None
    wer_max: float = Field(default=0.25, ge=0, description="word error rate against `text`")
    absent: bool = False
    for_: Duration | None = Field(default=None, alias="for", description="how long `absent` must hold")
    count_min: int | None = Field(default=None, ge=0)
    count_max: int | None = Field(default=None, ge=0)
    since: Literal["start", "step"] = Field(
        default="start", description="match lines since the call started, or since the last action step"
    )

    say: Literal["last", "first"] | int | None = Field(default=None, description="last, first or a 1-based index")
    state: SayStateName | None = None
    latency_max: Duration | None = None

    connection: ConnectionName | None = None

    request: str | None = Field(default=None, description="`last`, or `METHOD /path-part`, e.g. `POST /calls`")
    status: int | None = None

    within: Duration = 15.0

    @model_validator(mode="after")
    def _one_subject(self) -> Expect:
        subjects = [n for n in ("call", "transcript", "say", "connection", "request") if getattr(self, n) is not None]
        if len(subjects) != 1:
            raise ValueError(
                "an expectation names exactly one of call, transcript, say, connection, request"
                + (f" (found {', '.join(subjects)})" if subjects else "")
            )
        if self.transcript is not None:
            matchers = [n for n in ("contains", "regex", "fuzzy", "text") if getattr(self, n) is not None]
            if len(matchers) > 1:
                raise ValueError(f"use one of contains, regex, fuzzy, text (found {', '.join(matchers)})")
            if self.absent and self.for_ is None:
                raise ValueError("absent needs `for`, how long nothing may match (e.g. for: 2s)")
        if self.say is not None and self.state is None and self.latency_max is None:
            self.state = "heard"
        if self.regex is not None:
            import re

            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"bad regex: {exc}") from None
        return self

    @property
    def subject(self) -> str:
        for name in ("call", "transcript", "say", "connection", "request"):
            if getattr(self, name) is not None:
                return name
        return "?"


class Step(_Strict):
    """A mapping with exactly one key: the verb."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, json_schema_extra={"minProperties": 1, "maxProperties": 1}
    )

    say: Text | None = None
    flush: Empty | None = None
    stop_speaking: Empty | None = None
    open_speaking: Empty | None = None
    resend: Empty | None = None
    hangup: Empty | None = None
    phone_answer: Empty | None = Field(default=None, alias="phone.answer")
    phone_reject: Empty | None = Field(default=None, alias="phone.reject")
    phone_hangup: Empty | None = Field(default=None, alias="phone.hangup")
    phone_say: Text | None = Field(default=None, alias="phone.say")
    sandbox_fault: FaultArg | None = Field(default=None, alias="sandbox.fault")
    wait: Duration | None = None
    expect: Expect | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_verb(cls, data: Any) -> Any:
        if not isinstance(data, dict) or len(data) != 1:
            raise ValueError("a step is a mapping with exactly one verb, e.g. `- say: Hello`")
        ((verb, arg),) = data.items()
        # `- hangup:` with nothing after it is YAML null: the verb without options.
        return {verb: {} if arg is None and verb not in ("wait", "say", "phone.say") else arg}

    @property
    def verb(self) -> str:
        for name, field in type(self).model_fields.items():
            if getattr(self, name) is not None:
                return field.alias or name
        return "?"

    @property
    def arg(self) -> Any:
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is not None:
                return value
        return None


# -- checks after the call --------------------------------------------------------------------------------


class TranscriptsCheck(_Strict):
    direction: Literal["in", "out", "both"] = "both"
    count_min: int | None = Field(default=None, ge=0)
    count_max: int | None = Field(default=None, ge=0)


class GapsCheck(_Strict):
    unrecovered_max: int = Field(default=0, ge=0)
    count_max: int | None = Field(default=None, ge=0)


class FramesCheck(_Strict):
    unrecognised_max: int = Field(default=0, ge=0)


class LatencyCheck(_Strict):
    say_heard_p50_max: Duration | None = None
    say_heard_p95_max: Duration | None = None


class HeardCheck(_Strict):
    text: str = Field(min_length=1, description="what the phone should have heard (needs speech to text)")
    wer_max: float = Field(default=0.25, ge=0, description="word error rate against `text`")


class AudioCheck(_Strict):
    """Audio at the headless phone (a scenario with `phone:`). Directions are VoIPBIN's: `out` is what the
    phone heard, `in` what it said and VoIPBIN transcribed."""

    present: Literal["in", "out", "both"] | None = None
    first_audio_after_answer_max: Duration | None = None
    say_audible_latency_max: Duration | None = Field(
        default=None, description="POST /say → the first speech energy at the phone after it, for every say"
    )
    heard: HeardCheck | None = None


CHECK_KINDS = ("transcripts", "gaps", "frames", "latency", "audio")


class Check(_Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1, "maxProperties": 1})

    transcripts: TranscriptsCheck | None = None
    gaps: GapsCheck | None = None
    frames: FramesCheck | None = None
    latency: LatencyCheck | None = None
    audio: AudioCheck | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_kind(cls, data: Any) -> Any:
        if not isinstance(data, dict) or len(data) != 1:
            raise ValueError("a check is a mapping with exactly one of " + ", ".join(CHECK_KINDS))
        return data

    @property
    def kind(self) -> str:
        return next(n for n in CHECK_KINDS if getattr(self, n) is not None)


# -- the file -------------------------------------------------------------------------------------------


class Scenario(_Strict):
    version: Literal[1] = 1
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    sandbox: SandboxSettings = Field(
        default_factory=SandboxSettings, description="sandbox settings (seed, speed, …); ignored on the real service"
    )
    phone: PhoneSettings | None = Field(
        default=None,
        description="run the headless phone for this scenario (the [phone] table's keys); on the sandbox it needs "
        "sandbox.sip and registers there",
    )
    call: CallSpec | None = None
    attach: str | None = Field(default=None, description="follow an existing call by id instead of dialling")
    steps: list[Step] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)
    timeout: Duration = Field(default=300.0, description="the whole scenario's limit")

    @model_validator(mode="after")
    def _call_or_attach(self) -> Scenario:
        if self.call is not None and self.attach is not None:
            raise ValueError("give either call or attach, not both")
        if self.call is None and self.attach is None:
            self.call = CallSpec()
        if self.phone is not None and not self.phone.extension:
            raise ValueError("phone: needs extension (the extension the call rings)")
        return self

    @property
    def places_call(self) -> bool:
        return self.call is not None

    def uses_sandbox_only(self) -> list[int]:
        """Indices of steps that need the sandbox (skipped on the real service)."""
        return [i for i, s in enumerate(self.steps) if s.verb.startswith(("sandbox.", "phone."))]


def json_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "voipbin-tui scenario"
    return schema
