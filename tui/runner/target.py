"""Where a scenario runs: its own embedded sandbox (the scenario's seed and speed), or the real service.

The chain is the console's one factory (``tui.wiring.open_target``: settings → sandbox or service →
client → Account), so the runner never has a second client. A real run needs the target named
(credentials or a profile) and an explicit allowance; without both it refuses before anything is sent.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
from collections.abc import Awaitable, Callable
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
    # Real-service runs in one event loop share one account (one login, one WebSocket) per service and
    # credential instead of one each: every account hears every call of the customer, so N accounts
    # classify N x N frames. Only for many concurrent calls in one process (``runner_concurrent_calls``).
    share_account: bool = False


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

    # Set on a shared target: gives this user's hold back (the last one closes the account).
    release: Callable[[], Awaitable[None]] | None = None

    async def close(self) -> None:
        if self.release is not None:
            release, self.release = self.release, None
            await release()
        elif self.owned:
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
    if options.real and options.share_account:
        return await _shared_target(scenario, options)
    return await _open_target(scenario, options)


@dataclass(slots=True)
class _Shared:
    opening: asyncio.Task[Target]
    holders: int = 0


_SHARED: dict[tuple[int, str], _Shared] = {}


async def _shared_target(scenario: Scenario, options: TargetOptions) -> Target:
    settings = load_target_settings(options)
    # Keyed by loop, service and credential (hashed: the key is never shown, but need not hold a secret).
    fingerprint = hashlib.sha256("\0".join(settings.secrets()).encode()).hexdigest()
    key = (id(asyncio.get_running_loop()), f"{settings.api_url} {fingerprint}")
    shared = _SHARED.get(key)
    if shared is None or (shared.opening.done() and shared.opening.exception() is not None):
        # Opened in a context of its own: the account's background tasks (the WebSocket pump, and what
        # its events start) must not inherit the context of whichever call happened to open it.
        task = asyncio.get_running_loop().create_task(_open_target(scenario, options), context=contextvars.Context())
        shared = _SHARED[key] = _Shared(task)
    shared.holders += 1
    try:
        base = await asyncio.shield(shared.opening)
    except BaseException:
        shared.holders -= 1
        raise

    async def release() -> None:
        shared.holders -= 1
        if shared.holders == 0 and _SHARED.get(key) is shared:
            del _SHARED[key]
            await base.wired.close()

    return Target(base.wired, base.settings, secrets=list(base.secrets), owned=False, release=release)


async def _open_target(scenario: Scenario, options: TargetOptions) -> Target:
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
        if scenario.phone is not None and not sandbox.sip:
            raise TargetError("phone: on the sandbox the headless phone needs the SIP side: sandbox: {sip: true}")
    if scenario.phone is not None:
        # The scenario's phone replaces any [phone] table (the password stays the config's when not given).
        phone = scenario.phone
        if phone.password is None and settings.phone.password is not None:
            phone = phone.model_copy(update={"password": settings.phone.password})
        settings = settings.model_copy(update={"phone": phone})

    def opened(target: WiredTarget) -> None:
        secrets.extend(target.secrets())

    try:
        wired = await wire(settings, mode="service" if options.real else "sandbox", wait_connected=10.0, opened=opened)
    except Exception as exc:
        where = settings.api_url if options.real else "the sandbox"
        raise TargetError(redact_text(f"cannot start on {where}: {exc}", secrets)) from None
    return Target(wired, settings, secrets=[*secrets, *wired.secrets()])
