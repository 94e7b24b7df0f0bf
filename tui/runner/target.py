"""Where a scenario runs: its own embedded sandbox (the scenario's seed and speed), or the real service.

The chain is the console's one factory (``tui.wiring.open_target``: settings → sandbox or service →
client → Account), so the runner never has a second client. A real run needs the target named
(credentials or a profile) and an explicit allowance; without both it refuses before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tui.runner.schema import Scenario

if TYPE_CHECKING:
    from tui.config import Settings
    from tui.sandbox.server import EmbeddedSandbox
    from tui.sandbox_control import SandboxControl
    from tui.session.account import Account
    from tui.session.speaking import SpeakingOptions
    from tui.wiring import Target as WiredTarget


class TargetError(Exception):
    """The target cannot be used (bad config, real runs not allowed, login failed)."""


@dataclass(frozen=True, slots=True)
class TargetOptions:
    real: bool = False
    allow_real: bool = False
    config: str | None = None
    profile: str | None = None
    # Settings made by the caller (benchmarks, embedding programs) instead of the config file.
    settings: Settings | None = None


@dataclass(slots=True)
class Target:
    wired: WiredTarget
    settings: Settings
    secrets: list[str] = field(default_factory=list)
    # False when someone else opened it (the console's --script): they close it, not the scenario.
    owned: bool = True

    @property
    def account(self) -> Account:
        return self.wired.account

    @property
    def sandbox(self) -> EmbeddedSandbox | None:
        return self.wired.sandbox

    @property
    def phone(self) -> SandboxControl | None:
        """The sandbox's control API: the simulated phone and the faults."""
        return self.wired.control

    @property
    def is_sandbox(self) -> bool:
        return self.wired.sandbox is not None

    @property
    def label(self) -> str:
        return "sandbox" if self.is_sandbox else self.settings.api_url

    def speaking_options(self) -> SpeakingOptions:
        from tui.wiring import speaking_options

        return speaking_options(self.settings)

    async def close(self) -> None:
        if self.owned:
            await self.wired.close()


def load_target_settings(options: TargetOptions) -> Settings:
    """The config file and environment for a real run (or when asked for); plain defaults for a sandbox run,
    so a scenario on the sandbox behaves the same on every machine."""
    from tui.config import ConfigError, Settings, load_settings

    if options.settings is not None:
        return options.settings
    if not options.real and options.config is None and options.profile is None:
        return Settings.model_construct()
    try:
        settings, _ = load_settings(options.config, options.profile)
    except ConfigError as exc:
        problems = "; ".join(getattr(exc, "problems", []) or []) or str(exc)
        raise TargetError(f"config: {problems}") from None
    return settings


def check_real_allowed(options: TargetOptions, settings: Settings) -> None:
    if not settings.has_credentials():
        raise TargetError("a real run needs credentials (accesskey, token or username+password) or --profile")
    if not options.allow_real:
        raise TargetError("refusing to place calls on the real service without --allow-real")


async def open_target(scenario: Scenario, options: TargetOptions) -> Target:
    from tui.voipbin.redact import redact_text
    from tui.wiring import open_target as wire

    settings = load_target_settings(options)
    secrets = list(settings.secrets()) if options.real else []
    if options.real:
        check_real_allowed(options, settings)
    else:
        # The scenario's own sandbox: its seed and speed, an OS-chosen loopback port.
        sandbox = scenario.sandbox.model_copy(update={"host": "127.0.0.1", "port": 0})
        settings = settings.model_copy(update={"sandbox": sandbox})

    def opened(target: WiredTarget) -> None:
        secrets.extend(target.secrets())

    try:
        wired = await wire(settings, mode="service" if options.real else "sandbox", wait_connected=10.0, opened=opened)
    except Exception as exc:
        where = settings.api_url if options.real else "the sandbox"
        raise TargetError(redact_text(f"cannot start on {where}: {exc}", secrets)) from None
    return Target(wired, settings, secrets=[*secrets, *wired.secrets()])
