"""The config file without pydantic: where it is, reading it, profiles, and the pre-paint probe.

Kept apart from ``tui.config`` so that start-up can decide sandbox vs. service and find the file using
only the standard library (pydantic-settings costs a few hundred milliseconds to import, and the first
screen must not wait for it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tui.options import decide_mode

APP_NAME = "voipbin-tui"
ENV_PREFIX = "VOIPBIN_"
CONFIG_ENV = "VOIPBIN_TUI_CONFIG"

# Keys that may only appear at the top of the file, never inside a profile.
_TOP_ONLY = ("profiles", "profile")


class ConfigError(Exception):
    """A settings problem, worded for the user: where it is and what to change."""

    def __init__(self, message: str, *, path: Path | None = None, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.problems = problems or []

    def __str__(self) -> str:
        head = str(self.args[0])
        if self.problems:
            return head + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        return str(head)


@dataclass(frozen=True)
class ConfigLocation:
    path: Path
    source: Literal["flag", "env", "default"]

    @property
    def exists(self) -> bool:
        return self.path.is_file()


def user_config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def user_state_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def config_location(flag_path: str | os.PathLike[str] | None = None) -> ConfigLocation:
    if flag_path:
        return ConfigLocation(Path(flag_path).expanduser(), "flag")
    env = os.environ.get(CONFIG_ENV)
    if env:
        return ConfigLocation(Path(env).expanduser(), "env")
    return ConfigLocation(user_config_dir() / "config.toml", "default")


def ensure_private_dir(path: Path) -> Path:
    """Create a directory readable only by the user (it may hold credentials or call records)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def read_config_file(location: ConfigLocation) -> dict[str, Any]:
    if not location.exists:
        if location.source != "default":
            raise ConfigError(f"config file not found: {location.path}", path=location.path)
        return {}
    import tomllib  # here: the console's first frame needs no TOML parser when there is no file

    try:
        with location.path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{location.path}: not valid TOML: {exc}", path=location.path) from exc
    except OSError as exc:
        raise ConfigError(f"{location.path}: cannot read: {exc.strerror}", path=location.path) from exc


def merge_profile(data: Mapping[str, Any], profile: str | None) -> dict[str, Any]:
    """The file's top level with the chosen profile deep-merged over it."""
    merged = {k: v for k, v in data.items() if k not in ("profiles",)}
    profiles = data.get("profiles") or {}
    if profile is None:
        return merged
    if not isinstance(profiles, dict) or profile not in profiles:
        known = ", ".join(sorted(profiles)) if isinstance(profiles, dict) and profiles else "none defined"
        raise ConfigError(f"unknown profile {profile!r} (profiles: {known})")
    overlay = profiles[profile]
    if not isinstance(overlay, dict):
        raise ConfigError(f"[profiles.{profile}] must be a table")
    bad = [k for k in overlay if k in _TOP_ONLY]
    if bad:
        raise ConfigError(f"[profiles.{profile}] may not set {', '.join(bad)}")
    return _deep_merge(merged, overlay)


def _deep_merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def selected_profile(data: Mapping[str, Any], flag_profile: str | None) -> str | None:
    if flag_profile:
        return flag_profile
    env = os.environ.get(ENV_PREFIX + "PROFILE")
    if env:
        return env
    value = data.get("profile")
    return str(value) if isinstance(value, str) and value else None


@dataclass(frozen=True)
class QuickProbe:
    """What start-up needs before the first paint, found without pydantic: the mode and the file."""

    sandbox: bool
    location: ConfigLocation
    profile: str | None


_CREDENTIAL_KEYS = ("accesskey", "token")


def quick_probe(
    config_path: str | os.PathLike[str] | None = None,
    profile: str | None = None,
    force_sandbox: bool = False,
) -> QuickProbe:
    """Decide sandbox vs. service cheaply so the header can say so on the very first frame.

    The full load_settings() runs after the first paint and has the last word; this only has to agree
    with it for well-formed configs.
    """
    location = config_location(config_path)
    try:
        raw = read_config_file(location)
        chosen = selected_profile(raw, profile)
        data = merge_profile(raw, chosen)
    except ConfigError:
        return QuickProbe(sandbox=force_sandbox, location=location, profile=profile)

    def present(key: str) -> bool:
        return bool(os.environ.get(ENV_PREFIX + key.upper()) or data.get(key))

    password = present("password") or bool(
        (env_name := os.environ.get(ENV_PREFIX + "PASSWORD_ENV") or data.get("password_env"))
        and os.environ.get(str(env_name))
    )
    has = any(present(k) for k in _CREDENTIAL_KEYS) or (present("username") and password)
    use_sandbox = str(os.environ.get(ENV_PREFIX + "USE_SANDBOX") or data.get("use_sandbox") or "auto")
    mode = decide_mode(use_sandbox, has, force_sandbox=force_sandbox)
    return QuickProbe(sandbox=mode == "sandbox", location=location, profile=chosen)
