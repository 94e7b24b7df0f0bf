"""Settings: flags > environment (``VOIPBIN_…``) > TOML file (with an optional profile) > defaults.

Loaded with pydantic-settings. The file is found by ``--config``, else ``$VOIPBIN_TUI_CONFIG``, else the
user config dir. Unknown keys anywhere in the file are errors, so a typo never silently does nothing.
This module must not import Textual (the import-hygiene test checks it).
"""

from __future__ import annotations

import contextvars
import os
import textwrap
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tui.configfile import (
    APP_NAME,
    CONFIG_ENV,
    ENV_PREFIX,
    ConfigError,
    ConfigLocation,
    QuickProbe,
    config_location,
    ensure_private_dir,
    merge_profile,
    quick_probe,
    read_config_file,
    selected_profile,
    user_config_dir,
    user_state_dir,
)
from tui.sandbox.settings import SandboxSettings
from tui.session.dial import SEED_DESTINATION, SEED_GREETING, SEED_SOURCE

DEFAULT_API_URL = "https://api.voipbin.net/v1.0"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DialSettings(_Section):
    """What to dial: the defaults of the dial form and of --dial (the seed scenario)."""

    source: str = Field(SEED_SOURCE, description="Caller number (E.164); pick one from GET /numbers.")
    destination: str = Field(
        SEED_DESTINATION,
        description="Extension (its `extension` field, not its name), +E.164 number, or sip:user@host.",
    )
    destination_type: Literal["auto", "extension", "tel", "sip"] = Field(
        "auto", description="auto: +digits is tel, user@host or sip: is sip, anything else an extension."
    )
    language: str = Field("en-US", description="BCP47 language for transcription and the greeting.")
    greeting: str = Field(SEED_GREETING, description="Text of the `talk` action played after answer.")
    sleep_ms: int = Field(600_000, ge=0, description="Duration of the `sleep` action that keeps the call open.")
    transcribe: bool = Field(True, description="Add a `transcribe_start` action to the call.")
    transcribe_direction: Literal["both", "in", "out"] = Field("both", description="Streams to transcribe.")
    transcribe_provider: Literal["", "gcp", "aws"] = Field(
        "",
        description='Transcribe provider: "" lets VoIPBIN choose (Google first: its live streams stop after '
        'about 5 minutes), "gcp", or "aws" (no such limit).',
    )
    transcribe_quiet_warning: float = Field(
        60.0,
        gt=0,
        description="Warn when the transcribe is progressing but nothing was transcribed for this many "
        "seconds after speech was expected.",
    )


class SpeakingSettings(_Section):
    """The Speaking API stream opened on the answered call."""

    auto_open: bool = Field(True, description="Open a speaking stream as soon as the call is answered.")
    provider: str = Field("elevenlabs", description="TTS provider: elevenlabs, gcp or aws.")
    direction: Literal["out", "in", "both", ""] = Field(
        "out", description="Who hears it: out = the called party, in = the far side, both."
    )
    language: str = Field("", description="Speaking language; empty means the dial language.")
    voice_id: str = Field("", description="Provider voice id; empty for the provider default.")
    poll_interval: float = Field(
        3.0, gt=0, description="Seconds between GET /speakings/{id} polls (no events exist for speakings)."
    )


class UiSettings(_Section):
    """Look and feel of the console."""

    theme: str = Field(
        "auto",
        description="Textual theme name; 'ansi' uses the terminal's own 16 colours (best over SSH); "
        "'auto' picks 'ansi' when the terminal lacks truecolor.",
    )
    transcript_max_lines: int = Field(
        5000, ge=100, description="Lines kept on screen; the full record is in the session JSONL."
    )
    event_log_max_lines: int = Field(2000, ge=100, description="Raw frames kept in the event log panel.")
    show_event_log: bool = Field(False, description="Show the raw event log panel at start.")
    confirm_quit: bool = Field(True, description="Ask before quitting while a call is live.")


class NetworkSettings(_Section):
    """Timeouts and keepalive of the REST client and the event channel."""

    timeout: float = Field(10.0, gt=0, description="HTTP timeout in seconds (connect, and each read).")
    request_deadline: float = Field(
        30.0, gt=0, le=600, description="Longest a whole HTTP request may take, answer included, in seconds."
    )
    max_response_kib: int = Field(
        4096,
        ge=64,
        le=262144,
        description="Largest decoded (unzipped) answer accepted, in KiB; list endpoints get 4 times this.",
    )
    ws_ping_interval: float = Field(5.0, gt=0, description="Seconds between our WebSocket pings.")
    ws_ping_timeout: float = Field(10.0, gt=0, description="A pong later than this means the socket is dead.")


class SessionSettings(_Section):
    """Session records (one JSONL file per call) and exports."""

    record: bool = Field(True, description="Write a JSONL record of every session to the state dir.")
    record_dir: str = Field("", description="Where session records go; empty: <state dir>/sessions.")
    export_dir: str = Field("", description="Where exports go; empty: <state dir>/exports.")


class LogSettings(_Section):
    """The log file (nothing is ever logged to the terminal)."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log file level.")
    file: str = Field("", description="Log file path; empty: <state dir>/voipbin-tui.log.")


class PhoneSettings(_Section):
    """`voipbin-tui phone`: the headless answering softphone (extra `voipbin-tui[phone]`)."""

    extension: str = Field("", description="SIP user to register: the extension's `extension` field.")
    domain: str = Field("", description="Registration domain (the extension's domain from GET /extensions).")
    password: SecretStr | None = Field(None, description="Extension password (prefer VOIPBIN_PHONE__PASSWORD).")
    registrar: str = Field("", description="Registrar host[:port] when it is not the domain itself.")
    transport: Literal["udp", "tcp", "tls"] = Field(
        "tcp", description="SIP transport; TLS for the real VoIPBIN (UDP INVITEs with digest auth get fragmented)."
    )
    srtp: bool = Field(False, description="Require SRTP for the media (TLS calls on VoIPBIN use SRTP).")
    reg_interval: int = Field(300, ge=10, description="Seconds between re-registrations.")
    local_address: str = Field("", description="Local address to bind SIP and RTP to; empty: 127.0.0.1.")
    tls_ca_file: str = Field(
        "", description="CA bundle (PEM) that signed the registrar's TLS certificate; empty: the system's."
    )
    engine: Literal["baresip", "pjsua2"] = Field("baresip", description="SIP engine.")
    answer: Literal["auto", "manual", "reject"] = Field(
        "auto", description="auto answers after answer_delay; manual waits for Enter; reject declines (486)."
    )
    answer_delay: float = Field(1.0, ge=0, description="Seconds of ringing before auto answer or reject.")
    lines: list[str] = Field(
        default_factory=list, description="What the phone says, in order: text (needs the TTS extra) or @file.wav."
    )
    cue: Literal["greeting", "utterance", "seconds"] = Field(
        "greeting",
        description="When lines start: greeting = after VoIPBIN's first utterance ends, then one per gap; "
        "utterance = one after each VoIPBIN utterance; seconds = cue_seconds after answer, then one per gap.",
    )
    cue_seconds: float = Field(2.0, ge=0, description="For cue = seconds: delay after answer before the first line.")
    gap: float = Field(1.0, ge=0, description="Seconds between the end of one line and the next (greeting/seconds).")
    energy_threshold_dbfs: float = Field(-40.0, le=0, description="Frame level above which audio counts as speech.")
    record: bool = Field(True, description="Record both directions of each call as WAV files.")
    record_dir: str = Field("", description="Where recordings go; empty: <state dir>/phone.")
    hangup_after: float = Field(0.0, ge=0, description="Hang up this many seconds after answer; 0: never.")
    rtp_interval: float = Field(5.0, gt=0, description="Seconds between `rtp` statistics lines during a call.")
    stt_model: str = Field(
        "", description="faster-whisper model directory for `heard` text (extra phone-stt); empty: segments only."
    )


class Settings(BaseSettings):
    """Every setting of the console, the watcher and the embedded sandbox."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    api_url: str = Field(DEFAULT_API_URL, description="REST base including /v1.0.")
    accesskey: SecretStr | None = Field(None, description="Accesskey (vb_…); sent as ?accesskey=.")
    token: SecretStr | None = Field(None, description="JWT from /auth/login; sent as a Bearer header.")
    username: str | None = Field(None, description="Agent login; used with password to log in and re-login.")
    password: SecretStr | None = Field(None, description="Agent password (prefer password_env).")
    password_env: str | None = Field(None, description="Name of an environment variable holding the password.")
    use_sandbox: Literal["auto", "always", "never"] = Field(
        "auto", description="auto: the embedded sandbox when no credentials are set."
    )
    profile: str | None = Field(None, description="Profile selected when --profile is not given.")

    dial: DialSettings = Field(default_factory=DialSettings)
    speaking: SpeakingSettings = Field(default_factory=SpeakingSettings)
    ui: UiSettings = Field(default_factory=UiSettings)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    session: SessionSettings = Field(default_factory=SessionSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    keymap: dict[str, str] = Field(
        default_factory=dict, description='Binding id -> key(s), e.g. hangup = "f8"; see the README.'
    )
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    phone: PhoneSettings = Field(default_factory=PhoneSettings)
    profiles: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Named overlays: [profiles.NAME] holds any top-level key."
    )

    @field_validator("api_url")
    @classmethod
    def _strip_api_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        file_source = _FileSource(settings_cls, _FILE_DATA.get() or {})
        return (init_settings, env_settings, file_source)

    # -- derived ----------------------------------------------------------------------------------------

    def resolved_password(self) -> str | None:
        if self.password is not None:
            return self.password.get_secret_value()
        if self.password_env:
            return os.environ.get(self.password_env) or None
        return None

    def has_credentials(self) -> bool:
        return bool(
            (self.accesskey and self.accesskey.get_secret_value())
            or (self.token and self.token.get_secret_value())
            or (self.username and self.resolved_password())
        )

    def secrets(self) -> list[str]:
        """Every secret value in play, for redaction of anything we write."""
        values = [
            s.get_secret_value()
            for s in (self.accesskey, self.token, self.password, self.phone.password)
            if s is not None
        ]
        pw = self.resolved_password()
        if pw:
            values.append(pw)
        return [v for v in values if v]


# pydantic-settings builds its sources inside __init__; the file data is handed over through a context
# variable so that load_settings() stays the single place that reads files.
_FILE_DATA: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("_FILE_DATA", default=None)


class _FileSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def _format_validation(exc: ValidationError, origin: str) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            problems.append(f"{loc}: unknown key ({origin})")
        else:
            problems.append(f"{loc}: {err['msg']} ({origin})")
    return problems


def load_settings(
    config_path: str | os.PathLike[str] | None = None,
    profile: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> tuple[Settings, ConfigLocation]:
    """Read file, environment and flags into one validated Settings; raise ConfigError if invalid."""
    location = config_location(config_path)
    raw = read_config_file(location)
    chosen = selected_profile(raw, profile)
    data = merge_profile(raw, chosen)
    data["profiles"] = raw.get("profiles", {})
    if chosen:
        data["profile"] = chosen
    token = _FILE_DATA.set(data)
    try:
        settings = Settings(**_nest(overrides or {}))
    except ValidationError as exc:
        raise ConfigError(
            "invalid settings", path=location.path, problems=_format_validation(exc, _origin(location))
        ) from None
    finally:
        _FILE_DATA.reset(token)
    return settings, location


def _origin(location: ConfigLocation) -> str:
    return f"file {location.path}, environment {ENV_PREFIX}* or flags"


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Turn {"dial.source": x} into {"dial": {"source": x}}; None values are dropped (flag not given)."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        if value is None:
            continue
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def check_config(config_path: str | os.PathLike[str] | None = None) -> tuple[ConfigLocation, list[str]]:
    """Validate the file and every profile in it; return the problems (empty when all is well)."""
    location = config_location(config_path)
    try:
        raw = read_config_file(location)
    except ConfigError as exc:
        return location, [str(exc)]
    problems: list[str] = []
    profiles = raw.get("profiles", {})
    names: list[str | None] = [None]
    if isinstance(profiles, dict):
        names += sorted(profiles)
    elif profiles:
        problems.append("profiles: must be a table of tables")
    for name in names:
        prefix = f"[profiles.{name}] " if name else ""
        try:
            settings, _ = load_settings(config_path, profile=name)
        except ConfigError as exc:
            problems.extend(prefix + p for p in (exc.problems or [str(exc)]))
            continue
        # The console would warn about these and fall back to the defaults; a check says so first.
        from tui.actions.keys import check_keymap

        problems.extend(prefix + p for p in check_keymap(settings.keymap)[1])
    return location, _unique(problems)


def _unique(items: list[str]) -> list[str]:
    seen: set[str] = set()
    return [i for i in items if not (i in seen or seen.add(i))]  # type: ignore[func-returns-value]


# -- the documented example file ---------------------------------------------------------------------------

_EXAMPLE_HEADER = """\
# voipbin-tui configuration — every key, with its default, commented out.
#
# Where this file lives: `voipbin-tui config path` (--config PATH, else $VOIPBIN_TUI_CONFIG, else the user
# config dir). Check it with `voipbin-tui config check`: unknown keys are errors, not silently ignored.
# Precedence: command-line flags > environment (VOIPBIN_KEY, VOIPBIN_TABLE__KEY) > this file > defaults.
# With no credentials set, the console runs on the embedded VoIPBIN sandbox.
"""


def _example_keymap() -> str:
    """Every remappable action with its default keys, from the action registry."""
    from tui.actions.registry import ACTIONS

    lines = [
        '# Remap keys: action id = "key[,key…]" (Textual key names). An unknown id, a key terminals cannot',
        "# send apart (ctrl+h/i/j/m/[) and two actions on one key are errors. The actions and their defaults:",
    ]
    lines += [f'# {a.keymap_id} = "{a.keys}"' for a in ACTIONS if a.keys]
    return "\n".join(lines) + "\n"


_EXAMPLE_PROFILES = """\
# Named profiles overlay any top-level key or table; pick one with --profile NAME, VOIPBIN_PROFILE or
# `profile = "NAME"` above. For example:
# [profiles.prod]
# api_url = "https://api.voipbin.net/v1.0"
# accesskey = "vb_…"            # better: VOIPBIN_ACCESSKEY in the environment
# [profiles.prod.dial]
# destination = "2000"
#
# [profiles.selfhosted]
# api_url = "https://voipbin.example.internal/v1.0"
# username = "admin@example.com"
# password_env = "VOIPBIN_PASSWORD"
"""


def _toml_value(value: Any) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot render {value!r}")


def _example_fields(model: type[BaseModel], prefix: str, lines: list[str]) -> list[tuple[str, type[BaseModel]]]:
    """Scalar fields as commented key = default lines; nested tables are returned for later."""
    tables: list[tuple[str, type[BaseModel]]] = []
    defaults = model() if prefix else None
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            tables.append((f"{prefix}{name}", annotation))
            continue
        if name in ("profiles", "keymap"):
            continue
        value = getattr(defaults, name) if defaults is not None else field.get_default(call_default_factory=True)
        for text in textwrap.wrap(field.description or "", 110):
            lines.append(f"# {text}")
        if isinstance(value, list) and value and isinstance(value[0], BaseModel):
            for item in value:
                lines.append(f"# [[{prefix}{name}]]")
                for key, sub in item.model_dump().items():
                    if sub is not None:
                        lines.append(f"#   {key} = {_toml_value(sub)}")
        elif value is None or isinstance(value, SecretStr):
            lines.append(f"# {name} = …            (unset)")
        else:
            lines.append(f"# {name} = {_toml_value(value)}")
        lines.append("")
    return tables


def example_toml() -> str:
    """The text of config.example.toml, generated from the settings models so it never drifts."""
    lines = [_EXAMPLE_HEADER]
    tables = _example_fields(Settings, "", lines)
    for table, model in tables:
        lines.append(f"[{table}]")
        doc = (model.__doc__ or "").strip().splitlines()
        if doc:
            lines.append(f"# {doc[0].replace('``', '`')}")
        lines.append("")
        _example_fields(model, table + ".", lines)
    lines += ["[keymap]", _example_keymap(), "", _EXAMPLE_PROFILES]
    return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"


__all__ = [
    "APP_NAME",
    "CONFIG_ENV",
    "ENV_PREFIX",
    "ConfigError",
    "ConfigLocation",
    "QuickProbe",
    "Settings",
    "check_config",
    "config_location",
    "ensure_private_dir",
    "example_toml",
    "load_settings",
    "merge_profile",
    "quick_probe",
    "read_config_file",
    "user_config_dir",
    "user_state_dir",
]
