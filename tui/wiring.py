"""Settings → the embedded sandbox or the service → ``VoipbinClient`` → ``Account``, built in one place.

The console, ``voipbin-tui watch`` and the scenario runner all get their account here, so a target is
reached the same way whoever drives it. ``open_target`` is the whole chain; ``account_for`` is the factory
it (and ``watch``, which always talks to the service) uses.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.options import Mode, decide_mode

if TYPE_CHECKING:
    from tui.actions.context import PhoneOps
    from tui.config import Settings
    from tui.headless_phone import HeadlessPhone
    from tui.sandbox.server import EmbeddedSandbox
    from tui.sandbox_control import SandboxControl
    from tui.session.account import Account
    from tui.session.call_session import CallSession
    from tui.session.dial import DialRequest
    from tui.session.speaking import SpeakingOptions


def target_mode(settings: Settings, *, force_sandbox: bool = False) -> Mode:
    """Sandbox or service for loaded settings (the same rule the start-up probe applies to the raw file)."""
    return decide_mode(settings.use_sandbox, settings.has_credentials(), force_sandbox=force_sandbox)


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


@dataclass
class Target:
    """An open account and, on the sandbox, the server it runs on and its control client."""

    mode: Mode
    account: Account
    api_url: str
    sandbox: EmbeddedSandbox | None = None
    control: SandboxControl | None = None
    # The phone the phone keys drive: the real headless phone when `[phone]` is configured, else the
    # sandbox's simulated one (its control API), else none.
    phone: PhoneOps | None = None
    headless: HeadlessPhone | None = None
    closed: bool = field(default=False, init=False)

    def secrets(self) -> list[str]:
        values = list(self.account.client.secrets())
        if self.sandbox is not None:
            values.append(self.sandbox.accesskey)
        return [v for v in values if v]

    async def close(self) -> None:
        """Account first (its WebSocket), then the control client, then the server; never raises."""
        if self.closed:
            return
        self.closed = True
        if self.headless is not None:
            with contextlib.suppress(Exception):
                await self.headless.close()
        with contextlib.suppress(Exception):
            await self.account.close()
        if self.control is not None:
            with contextlib.suppress(Exception):
                await self.control.aclose()
        if self.sandbox is not None:
            with contextlib.suppress(Exception):
                await self.sandbox.stop()


def standalone_control(api_url: str) -> SandboxControl | None:
    """A sandbox given by URL (``voipbin-tui sandbox`` in another terminal) has its control API beside the
    REST base; only a loopback host can be one, so the real service never gets a phone. Nothing is asked
    until an action needs it, and an action on a server without it says so."""
    from urllib.parse import urlsplit

    from tui.sandbox_control import SandboxControl

    parts = urlsplit(api_url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1") or not parts.path.rstrip("/").endswith("/v1.0"):
        return None
    root = api_url.rstrip("/").removesuffix("/v1.0")
    return SandboxControl(root + "/_sandbox")


async def open_target(
    settings: Settings,
    *,
    mode: Mode | None = None,
    wait_connected: float | None = 5.0,
    opened: Callable[[Target], None] | None = None,
) -> Target:
    """Start what ``settings`` point at and log in; on any failure, close what was opened and re-raise.

    ``opened`` hears of the target before the login, so a caller can redact the sandbox's accesskey from
    a login error.
    """
    mode = mode or target_mode(settings)
    if mode == "service" and not settings.has_credentials():
        raise RuntimeError(
            "use_sandbox is 'never' but no credentials are set: set accesskey, token or username+password"
        )
    if mode == "sandbox":
        from tui.sandbox.server import EmbeddedSandbox
        from tui.sandbox_control import SandboxControl

        sandbox = EmbeddedSandbox(settings.sandbox, port=0)
        await sandbox.start()
        account = account_for(settings, api_url=sandbox.api_url, accesskey=sandbox.accesskey, label="sandbox")
        target = Target(mode, account, sandbox.api_url, sandbox, SandboxControl(sandbox.control_url))
    else:
        target = Target(mode, account_for(settings, label=settings.api_url), settings.api_url)
        target.control = standalone_control(settings.api_url)
    if opened is not None:
        opened(target)
    try:
        await target.account.start(wait_connected=wait_connected)
        await choose_phone(settings, target)
    except BaseException:
        await target.close()
        raise
    return target


# baresip starts in about a second; a registrar over TLS on the internet answers within a few.
PHONE_REGISTER_WAIT = 15.0


def phone_configured(settings: Settings) -> bool:
    """A `[phone]` table that names an extension: the console (or a scenario) then runs the real phone."""
    return bool(settings.phone.extension)


async def choose_phone(settings: Settings, target: Target) -> None:
    """Which phone a console (or a scenario) gets: the headless phone when `[phone]` names an extension and
    the target can ring it (the service or a sandbox reached by URL: the table names the domain; the
    embedded sandbox with its SIP side on: its registrar, domain and seed password are filled in),
    otherwise the sandbox's simulated phone (its control API), or none."""
    target.phone = target.control
    if not phone_configured(settings):
        return
    phone = settings.phone
    sandbox = target.sandbox
    if sandbox is not None:
        if not settings.sandbox.sip:
            return
        from pydantic import SecretStr

        from tui.sandbox.settings import SEED_PASSWORDS

        password = phone.password or SecretStr(SEED_PASSWORDS.get(phone.extension, ""))
        phone = phone.model_copy(
            update={
                "registrar": f"127.0.0.1:{sandbox.sip_port}",
                "domain": phone.domain or sandbox.customer_id,
                "transport": "tcp" if phone.transport == "tls" else phone.transport,
                "password": password,
            }
        )
    elif not phone.domain:
        return
    from tui.headless_phone import HeadlessPhone

    password_text = phone.password.get_secret_value() if phone.password is not None else ""
    headless = HeadlessPhone(phone, password_text, secrets=settings.secrets())
    target.headless = headless
    target.phone = headless
    if not password_text:
        headless.fail_now("no password for the phone: set VOIPBIN_PHONE__PASSWORD or [phone] password")
        return
    await headless.start()
    # A call dialled before the phone registered would find no contact and go to the simulated phone (on
    # the sandbox) or nowhere: wait for the first answer of the registrar, bounded.
    await headless.wait_registered(PHONE_REGISTER_WAIT)


# -- from settings to a call session (the console, and the runner, make theirs here) --------------------------


def dial_request(settings: Settings) -> DialRequest:
    """The ``[dial]`` table as the request ``CallSession.dial`` takes."""
    from tui.session.dial import DialRequest

    d = settings.dial
    return DialRequest(
        source=d.source,
        destination=d.destination,
        destination_type=d.destination_type,
        language=d.language,
        greeting=d.greeting,
        sleep_ms=d.sleep_ms,
        transcribe=d.transcribe,
        transcribe_direction=d.transcribe_direction,
        transcribe_provider=d.transcribe_provider,
    )


def speaking_options(settings: Settings, **changes: Any) -> SpeakingOptions:
    """The ``[speaking]`` table as ``SpeakingOptions``, with ``changes`` (the dial form's) applied."""
    from tui.session.speaking import SpeakingOptions

    s = settings.speaking
    options = SpeakingOptions(
        auto_open=s.auto_open,
        provider=s.provider,
        direction=s.direction,
        language=s.language,
        voice_id=s.voice_id,
        poll_interval=s.poll_interval,
    )
    return dataclasses.replace(options, **changes)


def new_call_session(
    settings: Settings,
    account: Account,
    default_record_dir: Path,
    *,
    speaking: SpeakingOptions | None = None,
    call_hint: str = "",
    secrets: Sequence[str] = (),
    stream_limit_s: float = 300.0,
) -> CallSession:
    """A ``CallSession`` on ``account`` with the session record ``[session]`` asks for (secrets redacted)."""
    from tui.session.call_session import CallSession
    from tui.session.record import SessionRecorder, record_path

    recorder = SessionRecorder(None)
    if settings.session.record:
        directory = Path(settings.session.record_dir) if settings.session.record_dir else default_record_dir
        recorder = SessionRecorder(record_path(directory, call_hint), [*settings.secrets(), *secrets])
    return CallSession(
        account,
        speaking=speaking or speaking_options(settings),
        recorder=recorder,
        # The book only needs what the view can show plus room for late, out-of-order lines; the record on
        # disk has the rest (exports read it when lines were evicted).
        max_lines=settings.ui.transcript_max_lines * 2,
        transcription_quiet_s=settings.dial.transcribe_quiet_warning,
        # Wall-clock seconds a Google transcription stream lasts (shorter in a sped-up sandbox).
        stream_limit_s=stream_limit_s,
    )
