"""Where a scenario runs: its own embedded sandbox (the scenario's seed and speed), or the real service.

The wiring is the console's (``tui.runtime.account_for``: settings → client → Account), so the runner
never has a second client. A real run needs the target named (credentials or a profile) and an explicit
allowance; without both it refuses before anything is sent.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tui.runner.schema import Scenario

if TYPE_CHECKING:
    from tui.config import Settings
    from tui.runtime import SandboxPhone
    from tui.sandbox.server import EmbeddedSandbox
    from tui.session.account import Account
    from tui.session.speaking import SpeakingOptions


class TargetError(Exception):
    """The target cannot be used (bad config, real runs not allowed, login failed)."""


@dataclass(frozen=True, slots=True)
class TargetOptions:
    real: bool = False
    allow_real: bool = False
    config: str | None = None
    profile: str | None = None


@dataclass(slots=True)
class Target:
    account: Account
    settings: Settings
    sandbox: EmbeddedSandbox | None = None
    phone: SandboxPhone | None = None
    secrets: list[str] = field(default_factory=list)

    @property
    def is_sandbox(self) -> bool:
        return self.sandbox is not None

    @property
    def label(self) -> str:
        return "sandbox" if self.sandbox is not None else self.settings.api_url

    def speaking_options(self) -> SpeakingOptions:
        from tui.session.speaking import SpeakingOptions

        s = self.settings.speaking
        return SpeakingOptions(
            auto_open=s.auto_open,
            provider=s.provider,
            direction=s.direction,
            language=s.language,
            voice_id=s.voice_id,
            poll_interval=s.poll_interval,
        )

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.account.close()
        if self.phone is not None:
            with contextlib.suppress(Exception):
                await self.phone.aclose()
        if self.sandbox is not None:
            with contextlib.suppress(Exception):
                await self.sandbox.stop()


def load_target_settings(options: TargetOptions) -> Settings:
    """The config file and environment for a real run (or when asked for); plain defaults for a sandbox run,
    so a scenario on the sandbox behaves the same on every machine."""
    from tui.config import ConfigError, Settings, load_settings

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
    from tui.runtime import SandboxPhone, account_for

    settings = load_target_settings(options)
    if options.real:
        check_real_allowed(options, settings)
        account = account_for(settings, label=settings.api_url)
        target = Target(account, settings, secrets=[*settings.secrets(), *account.client.secrets()])
    else:
        from tui.sandbox.server import EmbeddedSandbox

        sandbox_settings = scenario.sandbox.model_copy(update={"host": "127.0.0.1", "port": 0})
        sandbox = EmbeddedSandbox(sandbox_settings, port=0)
        await sandbox.start()
        account = account_for(settings, api_url=sandbox.api_url, accesskey=sandbox.accesskey, label="sandbox")
        target = Target(
            account, settings, sandbox=sandbox, phone=SandboxPhone(sandbox.control_url), secrets=[sandbox.accesskey]
        )
    try:
        await account.start(wait_connected=10.0)
    except Exception as exc:
        await target.close()
        from tui.voipbin.redact import redact_text

        raise TargetError(redact_text(f"cannot start on {target.label}: {exc}", target.secrets)) from None
    return target
