"""Everything the console needs besides drawing: settings, the sandbox, the account, new sessions.

The Textual app is handed one ``Runtime`` and never reads config or opens sockets itself. The runtime
is built in two steps so the first screen can appear at once: the constructor only keeps the cheap
start-up probe; ``start()`` does the heavy work (pydantic settings, the embedded server, login,
WebSocket) after the first paint.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tui.cli import ConsoleOptions
from tui.configfile import QuickProbe, user_state_dir

if TYPE_CHECKING:
    from tui.config import Settings
    from tui.sandbox.server import EmbeddedSandbox
    from tui.session.account import Account
    from tui.session.call_session import CallSession
    from tui.session.dial import DialRequest
    from tui.session.speaking import SpeakingOptions

log = logging.getLogger(__name__)

Mode = Literal["sandbox", "service"]


def account_for(
    settings: Settings, *, api_url: str | None = None, accesskey: str | None = None, label: str = ""
) -> Account:
    """The account of the configured service, or of a sandbox when ``api_url`` and ``accesskey`` are given."""
    from tui.session.account import Account
    from tui.voipbin.rest import VoipbinClient

    network = settings.network
    limits: dict[str, Any] = {
        "timeout": network.timeout,
        "request_deadline": network.request_deadline,
        "max_response_bytes": network.max_response_kib * 1024,
    }
    if api_url is not None:
        client = VoipbinClient(api_url, accesskey=accesskey, **limits)
    else:
        client = VoipbinClient(
            settings.api_url,
            accesskey=settings.accesskey.get_secret_value() if settings.accesskey else None,
            token=settings.token.get_secret_value() if settings.token else None,
            username=settings.username,
            password=settings.resolved_password(),
            **limits,
        )
    return Account(
        client,
        ping_interval=settings.network.ws_ping_interval,
        ping_timeout=settings.network.ws_ping_timeout,
        label=label,
    )


class SandboxPhone:
    """The simulated softphone's side of a sandbox call, driven through the sandbox control API."""

    def __init__(self, control_url: str) -> None:
        import httpx

        self._http = httpx.AsyncClient(base_url=control_url.rstrip("/"), timeout=5.0)

    async def _post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self._http.post(path, json=body or {})
        if response.status_code >= 400:
            detail = response.text[:200]
            raise RuntimeError(f"sandbox phone: {path} failed ({response.status_code}): {detail}")
        try:
            data = response.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    async def answer(self, call_id: str) -> None:
        await self._post(f"/calls/{call_id}/answer")

    async def reject(self, call_id: str) -> None:
        await self._post(f"/calls/{call_id}/reject")

    async def hangup(self, call_id: str) -> None:
        await self._post(f"/calls/{call_id}/hangup")

    async def speak(self, call_id: str, text: str) -> None:
        await self._post(f"/calls/{call_id}/speak", {"text": text})

    async def faults(self, **faults: Any) -> None:
        await self._post("/faults", faults)

    async def aclose(self) -> None:
        await self._http.aclose()


class Runtime:
    """Owned by the app; ``await start()`` once, ``await close()`` at exit."""

    def __init__(self, options: ConsoleOptions, probe: QuickProbe) -> None:
        self.options = options
        self.probe = probe
        self.mode: Mode = "sandbox" if probe.sandbox else "service"
        self.settings: Settings | None = None
        self.sandbox: EmbeddedSandbox | None = None
        self.account: Account | None = None
        self.phone: SandboxPhone | None = None
        self.log_path: Path | None = None
        self.started = False

    # -- start/stop -------------------------------------------------------------------------------------

    def load(self) -> Settings:
        """Read settings and start file logging; raises ConfigError with user-facing text."""
        # Imported here, after the first paint: pydantic-settings is the slowest import we have.
        from tui.config import load_settings
        from tui.logsetup import configure_file_logging

        settings, _ = load_settings(self.options.config, self.options.profile, self.options.overrides())
        self.settings = settings
        if settings.use_sandbox == "always" or (settings.use_sandbox == "auto" and not settings.has_credentials()):
            self.mode = "sandbox"
        else:
            self.mode = "service"
        path = Path(settings.log.file) if settings.log.file else self.state_dir / "voipbin-tui.log"
        self.log_path = configure_file_logging(path, settings.log.level, settings.secrets)
        return settings

    async def start(self) -> None:
        """Settings, then the embedded sandbox (sandbox mode), then the account and its event channel."""
        settings = self.settings if self.settings is not None else await asyncio.to_thread(self.load)
        if self.mode == "service" and not settings.has_credentials():
            raise RuntimeError(
                "use_sandbox is 'never' but no credentials are set: set accesskey, token or username+password"
            )
        if self.mode == "sandbox":
            from tui.sandbox.server import EmbeddedSandbox

            self.sandbox = EmbeddedSandbox(settings.sandbox, port=0)
            await self.sandbox.start()
            self.phone = SandboxPhone(self.sandbox.control_url)
            self.account = account_for(
                settings, api_url=self.sandbox.api_url, accesskey=self.sandbox.accesskey, label="sandbox"
            )
        else:
            self.account = account_for(settings, label=settings.api_url)
        await self.account.start(wait_connected=5.0)
        self.started = True

    async def close(self) -> None:
        if self.account is not None:
            with contextlib.suppress(Exception):
                await self.account.close()
        if self.phone is not None:
            with contextlib.suppress(Exception):
                await self.phone.aclose()
        if self.sandbox is not None:
            with contextlib.suppress(Exception):
                await self.sandbox.stop()

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
        from tui.session.dial import DialRequest

        d = self._settings().dial
        return DialRequest(
            source=d.source,
            destination=d.destination,
            destination_type=d.destination_type,
            language=d.language,
            greeting=d.greeting,
            sleep_ms=d.sleep_ms,
            transcribe=d.transcribe,
            transcribe_direction=d.transcribe_direction,
        )

    def speaking_options(self, **changes: Any) -> SpeakingOptions:
        from tui.session.speaking import SpeakingOptions

        s = self._settings().speaking
        options = SpeakingOptions(
            auto_open=s.auto_open,
            provider=s.provider,
            direction=s.direction,
            language=s.language,
            voice_id=s.voice_id,
            poll_interval=s.poll_interval,
        )
        return dataclasses.replace(options, **changes)

    def new_session(self, speaking: SpeakingOptions | None = None, call_hint: str = "") -> CallSession:
        from tui.session.call_session import CallSession
        from tui.session.record import SessionRecorder, record_path

        settings = self._settings()
        account = self._account()
        recorder = SessionRecorder(None)
        if settings.session.record:
            directory = Path(settings.session.record_dir) if settings.session.record_dir else self.record_dir
            secrets = [*settings.secrets()]
            if self.sandbox is not None:
                secrets.append(self.sandbox.accesskey)
            recorder = SessionRecorder(record_path(directory, call_hint), secrets)
        return CallSession(
            account,
            speaking=speaking or self.speaking_options(),
            recorder=recorder,
            # The book only needs what the view can show plus room for late, out-of-order lines; the
            # record on disk has the rest (exports read it when lines were evicted).
            max_lines=settings.ui.transcript_max_lines * 2,
        )

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
