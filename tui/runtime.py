"""The console's run time: its settings, the target it opened, and the call sessions it makes.

The Textual app is handed one ``ConsoleRuntime`` and never reads config or opens sockets itself. It is
built in two steps so the first screen can appear at once: the constructor only keeps the cheap start-up
probe; ``start()`` does the heavy work (pydantic settings, file logging, then ``tui.wiring.open_target``:
the embedded server, login, WebSocket) after the first paint. The account factory is ``tui.wiring``'s and
the sandbox's control client is ``tui.sandbox_control``'s; this module only holds them for the app.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.configfile import QuickProbe, user_state_dir
from tui.options import ConsoleOptions, Mode

if TYPE_CHECKING:
    from collections.abc import Callable

    from tui.actions.context import PhoneOps
    from tui.config import Settings
    from tui.headless_phone import HeadlessPhone
    from tui.runner.onscreen import ScriptRun
    from tui.sandbox.server import EmbeddedSandbox
    from tui.sandbox_control import SandboxControl
    from tui.session.account import Account
    from tui.session.call_session import CallSession
    from tui.session.dial import DialRequest
    from tui.session.speaking import SpeakingOptions
    from tui.wiring import Target

log = logging.getLogger(__name__)


class ConsoleRuntime:
    """Owned by the app; ``await start()`` once, ``await close()`` at exit."""

    def __init__(self, options: ConsoleOptions, probe: QuickProbe) -> None:
        self.options = options
        self.probe = probe
        self.mode: Mode = "sandbox" if probe.sandbox else "service"
        self.settings: Settings | None = None
        self.sandbox: EmbeddedSandbox | None = None
        self.account: Account | None = None
        self.control: SandboxControl | None = None
        self.target: Target | None = None
        self.log_path: Path | None = None
        self.started = False
        # --script: the scenario the console runs on screen once it is up.
        self.script: ScriptRun | None = None

    # -- start/stop -------------------------------------------------------------------------------------

    def load(self) -> Settings:
        """Read settings and start file logging; raises ConfigError with user-facing text."""
        # Imported here, after the first paint: pydantic-settings is the slowest import we have.
        from tui.config import load_settings
        from tui.logsetup import configure_file_logging
        from tui.wiring import target_mode

        settings, _ = load_settings(self.options.config, self.options.profile, self.options.overrides())
        self.mode = target_mode(settings)
        if self.options.script:
            settings = self._load_script(settings)
        self.settings = settings
        path = Path(settings.log.file) if settings.log.file else self.state_dir / "voipbin-tui.log"
        self.log_path = configure_file_logging(path, settings.log.level, settings.secrets)
        return settings

    def _load_script(self, settings: Settings) -> Settings:
        """The scenario of --script; on the sandbox, the scenario's sandbox settings (seed, speed, …) apply."""
        from tui.runner.loader import ScenarioError, load_scenario
        from tui.runner.onscreen import ScriptRun

        path = self.options.script or ""
        try:
            scenario = load_scenario(Path(path))
        except ScenarioError as exc:
            raise ValueError("; ".join(str(p) for p in exc.problems)) from None
        if self.mode == "service" and not self.options.allow_real:
            raise ValueError("--script places calls on the real service only with --allow-real")
        self.script = ScriptRun(scenario)
        if self.mode != "sandbox":
            return settings
        sandbox = scenario.sandbox.model_copy(update={"host": "127.0.0.1", "port": 0})
        return settings.model_copy(update={"sandbox": sandbox})

    async def run_script(self, new_session: Callable[[], CallSession]) -> tuple[bool, str]:
        """Run --script's scenario in sessions ``new_session`` makes (the app's, on screen): (passed, verdict)."""
        from tui.runner.onscreen import verdict_line

        script, target = self.script, self.target
        if script is None or target is None:
            raise RuntimeError("no script to run")
        outcome = await script.run(target, self._settings(), self.secrets(), new_session)
        return outcome.passed, verdict_line(outcome, len(script.scenario.steps))

    def exit_code(self) -> int:
        """The console's exit status: a script's verdict (0 passed, 1 failed, 2 not finished), else 0."""
        return self.script.exit_code if self.script is not None else 0

    async def start(self) -> None:
        """Settings, then the target (the embedded sandbox or the service) with its account connected."""
        from tui.wiring import open_target

        settings = self.settings if self.settings is not None else await asyncio.to_thread(self.load)
        await open_target(settings, mode=self.mode, wait_connected=5.0, opened=self._hold)
        self.started = True

    def start_problem(self, error: BaseException) -> str:
        """The start-up error as the console prints it: with its hint, the URL tried and the sandbox offer."""
        from tui.start_problem import start_problem

        settings = self.settings
        if settings is None or self.mode != "service":
            return start_problem(error, "", service=False)
        return start_problem(error, settings.api_url, service=True)

    def _hold(self, target: Target) -> None:
        self.target = target
        self.sandbox, self.control, self.account = target.sandbox, target.control, target.account

    @property
    def phone(self) -> PhoneOps | None:
        """What the phone keys drive (``tui.wiring.choose_phone``): the headless phone or the sandbox's."""
        return self.target.phone if self.target is not None else None

    @property
    def headless_phone(self) -> HeadlessPhone | None:
        return self.target.headless if self.target is not None else None

    async def close(self) -> None:
        if self.target is not None:
            await self.target.close()

    # -- what the app asks for --------------------------------------------------------------------------

    @property
    def state_dir(self) -> Path:
        return user_state_dir()

    def _settings(self) -> Settings:
        if self.settings is None:
            raise RuntimeError("runtime not loaded")
        return self.settings

    def _account(self) -> Account:
        if self.account is None:
            raise RuntimeError("runtime not started")
        return self.account

    @property
    def api_url(self) -> str:
        if self.sandbox is not None:
            return self.sandbox.api_url
        return self._settings().api_url

    def customer_label(self) -> str:
        account = self.account
        if account is None or account.customer is None:
            return ""
        c = account.customer
        return c.name or c.email or c.id

    def credential_expiry(self) -> datetime | None:
        """When the credential stops working (JWTs only; accesskeys report None)."""
        account = self.account
        return account.client.token_expiry if account is not None else None

    def credential_remaining(self) -> float | None:
        expiry = self.credential_expiry()
        return None if expiry is None else (expiry - datetime.now(UTC)).total_seconds()

    def default_dial(self) -> DialRequest:
        from tui.wiring import dial_request

        return dial_request(self._settings())

    def speaking_options(self, **changes: Any) -> SpeakingOptions:
        from tui.wiring import speaking_options

        return speaking_options(self._settings(), **changes)

    def new_session(self, speaking: SpeakingOptions | None = None, call_hint: str = "") -> CallSession:
        from tui.wiring import new_call_session

        settings = self._settings()
        extra = [self.sandbox.accesskey] if self.sandbox is not None else []
        return new_call_session(
            settings,
            self._account(),
            self.record_dir,
            speaking=speaking,
            call_hint=call_hint,
            secrets=extra,
            stream_limit_s=self._stream_limit(settings),
        )

    def _stream_limit(self, settings: Settings) -> float:
        """Wall-clock seconds a Google transcription stream lasts here (the sandbox's is sped up)."""
        limit = settings.sandbox.transcribe_stream_limit
        if self.mode == "sandbox" and limit:
            # With the SIP side on, the sandbox runs in real time whatever its speed setting says.
            return limit / (1.0 if settings.sandbox.sip else settings.sandbox.speed)
        if self.mode == "sandbox":
            return float("inf")  # the sandbox's streams were made unlimited
        return 300.0

    @property
    def record_dir(self) -> Path:
        return self.state_dir / "sessions"

    @property
    def export_dir(self) -> Path:
        settings = self._settings()
        return Path(settings.session.export_dir) if settings.session.export_dir else self.state_dir / "exports"

    def secrets(self) -> list[str]:
        values = list(self.settings.secrets()) if self.settings is not None else []
        if self.sandbox is not None:
            values.append(self.sandbox.accesskey)
        account = self.account
        if account is not None:
            values.extend(account.client.secrets())
        return [v for v in values if v]
