"""``voipbin-tui sandbox``: run the sandbox on its own until Ctrl+C or SIGTERM.

Settings come from ``VOIPBIN_SANDBOX__<KEY>`` environment variables (the same names as the ``[sandbox]``
table of the config file) and then from the command-line flags, which win.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import os
import secrets
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from pydantic import ValidationError

from tui.sandbox.settings import SandboxSettings

ENV_PREFIX = "VOIPBIN_SANDBOX__"


def settings_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """Read ``VOIPBIN_SANDBOX__SPEED=20`` style variables; lists and tables are JSON."""
    fields = SandboxSettings.model_fields
    values: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        key = name[len(ENV_PREFIX) :].lower()
        if key not in fields:
            raise ValueError(f"{name}: unknown sandbox setting {key!r}")
        if key in ("caller_script", "numbers", "extensions"):
            try:
                values[key] = json.loads(raw)
            except ValueError as exc:
                raise ValueError(f"{name} must be JSON (a list)") from exc
        elif raw == "" and key in (
            "accesskey",
            "customer_id",
            "random_seed",
            "hangup_after_script",
            "sip_tls_cert",
            "sip_tls_key",
            "sip_public_host",
        ):
            values[key] = None
        else:
            values[key] = raw
    return values


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voipbin-tui sandbox",
        description="Run the built-in VoIPBIN sandbox (a local simulator of the VoIPBIN API).",
    )
    add = parser.add_argument
    add("--host", help="address to bind (default 127.0.0.1)")
    add("--port", type=int, help="port to bind, 0 = any free port (default 8765)")
    add("--speed", type=float, help="simulation speed; durations are divided by it (default 1)")
    add("--accesskey", help="accesskey to accept (vb_...); random when not given")
    add("--answer", choices=["auto", "manual", "reject"], dest="answer_mode", help="softphone answer mode")
    add("--ring-delay", type=float, help="seconds from dialing to ringing (default 1)")
    add("--answer-delay", type=float, help="seconds of ringing before auto answer/reject (default 3)")
    add(
        "--caller-line",
        action="append",
        dest="caller_script",
        metavar="TEXT",
        help="a line the phone says after the greeting (repeat for more; replaces the default)",
    )
    add("--no-caller-script", action="store_true", help="the phone says nothing on its own")
    add("--caller-delay", type=float, help="seconds after the greeting before each caller line (default 2)")
    add("--hangup-after-script", type=float, help="phone hangs up this many seconds after its last line")
    add(
        "--transcribe-speaking",
        choices=["yes", "no"],
        help="whether Speaking API audio appears as `out` transcripts (default yes)",
    )
    add("--frame-shape", choices=["bare", "wrapped", "documented"], help="WebSocket frame shape")
    add("--reorder", action="store_true", default=None, help="deliver events in a varying order")
    add("--talk-ms-per-char", type=float, help="speaking time per character in ms (default 60)")
    add("--dial-timeout", type=float, help="seconds before an unanswered call gives up (default 60)")
    add("--ping-interval", type=float, help="wall-clock seconds between WebSocket pings (default 10)")
    add("--pong-timeout", type=float, help="wall-clock seconds without pong before a drop (default 60)")
    add("--customer-id", help="customer UUID (random when not given)")
    add("--seed", type=int, dest="random_seed", help="random seed for timings and jitter")
    add("--sip", action="store_true", default=None, help="run the SIP side (registrar, INVITEs, RTP); real time")
    add("--sip-port", type=int, help="SIP port for UDP and TCP, 0 = any free port (default 5060)")
    add("--sip-tls-port", type=int, help="SIP over TLS port (default 5061; needs --sip-tls-cert/--sip-tls-key)")
    add("--sip-tls-cert", metavar="PEM", help="certificate file for SIP over TLS")
    add("--sip-tls-key", metavar="PEM", help="private key file for SIP over TLS")
    add("--sip-public-host", metavar="ADDR", help="address written into SIP/SDP (default: --host)")
    add(
        "--sip-srtp",
        choices=["tls", "always", "never"],
        help="when calls to phones require SDES-SRTP: on TLS (default, as VoIPBIN), always, never",
    )
    add("--no-sip-tts", action="store_false", default=None, dest="sip_tts", help="tone bursts even if TTS is installed")
    return parser


def flag_values(argv: Sequence[str] | None) -> dict[str, Any]:
    """The settings given as command-line flags (only those given)."""
    args = build_parser().parse_args(argv)
    flags = {k: v for k, v in vars(args).items() if v is not None and k != "no_caller_script"}
    if "transcribe_speaking" in flags:
        flags["transcribe_speaking"] = flags["transcribe_speaking"] == "yes"
    if args.no_caller_script:
        flags["caller_script"] = []
    return flags


def parse_settings(
    argv: Sequence[str] | None, environ: Mapping[str, str], base: Mapping[str, Any] | None = None
) -> SandboxSettings:
    """``base`` (e.g. the config file's [sandbox] table) < environment < flags."""
    values = dict(base or {})
    values.update(settings_from_env(environ))
    values.update(flag_values(argv))
    return SandboxSettings.model_validate(values)


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposed(settings: SandboxSettings) -> tuple[SandboxSettings, list[str]]:
    """Settings safe to serve beyond loopback, and the warnings to print.

    The default password is public (it is in this project's README), and a login with it hands out a
    JWT; on any address but loopback it is replaced by a random one unless one was configured.
    """
    if is_loopback_host(settings.host):
        return settings, []
    warnings = [
        f"WARNING: the sandbox listens on {settings.host}, beyond this machine. Anyone who can reach",
        "WARNING: that address can log in, place simulated calls and read everything in the sandbox.",
        "WARNING: the control API (/_sandbox) stays loopback-only. Use --host 127.0.0.1 unless you need this.",
    ]
    updates: dict[str, Any] = {}
    default_password = SandboxSettings.model_fields["password"].default
    if "password" not in settings.model_fields_set or settings.password == default_password:
        updates["password"] = secrets.token_urlsafe(18)
        warnings.append("WARNING: the login password is random for this run (shown below).")
    if "accesskey" in settings.model_fields_set:
        warnings.append("WARNING: a fixed accesskey was configured and is now reachable from the network.")
    return settings.model_copy(update=updates), warnings


def banner(sandbox: Any) -> str:
    return "\n".join(
        [
            "VoIPBIN sandbox (a local simulator, not VoIPBIN) is running.",
            f"  REST base      {sandbox.api_url}",
            f"  Login          POST {sandbox.root_url}/auth/login",
            f"  WebSocket      {sandbox.ws_url}",
            f"  Control API    {sandbox.control_url}",
            f"  Username       {sandbox.username}",
            f"  Password       {sandbox.password}",
            f"  Accesskey      {sandbox.accesskey}",
            f"  Customer id    {sandbox.customer_id}",
            *sip_banner(sandbox),
            "Press Ctrl+C to stop.",
        ]
    )


def sip_banner(sandbox: Any) -> list[str]:
    """The SIP addresses and, per extension, what a softphone needs to register."""
    core = sandbox.core
    if core is None or core.sip is None:
        return []
    lines = ["SIP side (real time: speed 1)"]
    if sandbox.settings.speed != 1.0:
        lines[0] = f"SIP side (real time: the speed setting {sandbox.settings.speed:g} is ignored, speed is 1)"
    for kind, address in sandbox.sip_addresses.items():
        lines.append(f"  SIP {kind.upper():<10} {address}  ({media_of(sandbox.settings.sip_srtp, kind)})")
    for ext in core.store.extensions.values():
        domain = core.sip.domain_of(ext.extension)
        lines.append(f"  Extension      username {ext.extension}  password {ext.password}  domain {domain}")
    return lines


def media_of(policy: str, kind: str) -> str:
    """What a call to a phone registered over ``kind`` carries its audio in."""
    if policy == "always" or (policy == "tls" and kind == "tls"):
        return "media SRTP required: RTP/SAVP, SDES keys"
    return "media plain RTP"


async def serve(settings: SandboxSettings, out: TextIO = sys.stdout) -> int:
    from tui.sandbox.server import EmbeddedSandbox
    from tui.sandbox.sip.srtp import SrtpUnavailable

    settings, warnings = exposed(settings)
    for line in warnings:
        print(line, file=sys.stderr, flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    sandbox = EmbeddedSandbox(
        settings, port=settings.port, sip_port=settings.sip_port, sip_tls_port=settings.sip_tls_port
    )
    try:
        try:
            await sandbox.start()
        except OSError as exc:
            where = f"{settings.host}:{settings.port}"
            if settings.sip:
                where += f" (SIP {settings.sip_port}" + (
                    f", TLS {settings.sip_tls_port})" if settings.sip_tls_cert else ")"
                )
            print(f"voipbin-tui sandbox: cannot listen on {where}: {exc}", file=sys.stderr)
            return 1
        except SrtpUnavailable as exc:
            print(f"voipbin-tui sandbox: {exc}", file=sys.stderr)
            return 1
        print(banner(sandbox), file=out, flush=True)
        await stop.wait()
    finally:
        await sandbox.stop()
        for sig in installed:
            loop.remove_signal_handler(sig)
    print("Sandbox stopped.", file=out, flush=True)
    return 0


def run_standalone(settings: SandboxSettings) -> int:
    """Entry point for callers that already hold settings (e.g. from the app's config file)."""
    from tui.sandbox import quietlog

    # Around the whole loop, its teardown included: callbacks the loop still runs after serve() (asyncio
    # retrying accept() on a closed listener, say) must not reach Python's last-resort handler.
    condensing = quietlog.install()
    try:
        return asyncio.run(serve(settings))
    except KeyboardInterrupt:
        return 0
    finally:
        quietlog.uninstall(condensing)


def main(argv: list[str] | None = None, base: Mapping[str, Any] | None = None) -> int:
    try:
        settings = parse_settings(argv, os.environ, base)
    except (ValidationError, ValueError) as exc:
        print(f"voipbin-tui sandbox: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    return run_standalone(settings)


if __name__ == "__main__":
    raise SystemExit(main())
