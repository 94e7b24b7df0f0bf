"""``voipbin-tui phone``: the headless answering softphone, JSON lines on stdout.

stdout carries only JSON lines; one clear sentence goes to stderr on failure; details go to the log
file. The password comes from the config file, ``VOIPBIN_PHONE__PASSWORD``, ``--password-env VAR`` or
a prompt, and is redacted from everything we write. Ctrl+C (SIGINT) or SIGTERM hangs up the call,
unregisters, and exits 0. Lines typed on stdin are commands: Enter or ``answer``, ``reject``,
``hangup``, ``say TEXT`` (or ``say @file.wav``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from tui.config import ConfigError, PhoneSettings, load_settings, user_state_dir
from tui.logsetup import configure_file_logging
from tui.options import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from tui.voipbin.redact import redact_text

_FLAGS = {
    "extension": "phone.extension",
    "domain": "phone.domain",
    "registrar": "phone.registrar",
    "transport": "phone.transport",
    "engine": "phone.engine",
    "answer": "phone.answer",
    "answer_delay": "phone.answer_delay",
    "cue": "phone.cue",
    "cue_seconds": "phone.cue_seconds",
    "gap": "phone.gap",
    "threshold": "phone.energy_threshold_dbfs",
    "record_dir": "phone.record_dir",
    "hangup_after": "phone.hangup_after",
    "reg_interval": "phone.reg_interval",
    "local_address": "phone.local_address",
    "tls_ca_file": "phone.tls_ca_file",
    "stt_model": "phone.stt_model",
    "rtp_interval": "phone.rtp_interval",
}


def build_phone_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="voipbin-tui phone",
        description="Register a SIP extension, answer calls, speak lines, listen, and print one JSON object per "
        "line: kind registered|incoming|answered|heard|said|rtp|hangup|unregistered|error. Settings also come "
        "from the [phone] table of the config file and VOIPBIN_PHONE__* variables. Needs the phone extra.",
    )
    p.add_argument("--config", metavar="PATH", help="config file")
    p.add_argument("--profile", metavar="NAME", help="use [profiles.NAME] from the config file")
    p.add_argument("--extension", metavar="EXT", help="SIP user: the extension's `extension` field")
    p.add_argument("--domain", metavar="DOMAIN", help="registration domain (the extension's domain)")
    p.add_argument("--registrar", metavar="HOST[:PORT]", help="registrar when it is not the domain itself")
    p.add_argument("--transport", choices=["udp", "tcp", "tls"])
    p.add_argument("--srtp", action="store_true", default=None, help="require SRTP media")
    p.add_argument("--password-env", metavar="VAR", help="environment variable holding the extension password")
    p.add_argument("--engine", choices=["baresip", "pjsua2"])
    p.add_argument("--answer", choices=["auto", "manual", "reject"])
    p.add_argument("--answer-delay", type=float, metavar="S")
    p.add_argument("--say", action="append", metavar="LINE", help="a line to speak (text, or @file.wav); repeatable")
    p.add_argument("--cue", choices=["greeting", "utterance", "seconds"], help="when the lines are spoken")
    p.add_argument("--cue-seconds", type=float, metavar="S")
    p.add_argument("--gap", type=float, metavar="S")
    p.add_argument("--threshold", type=float, metavar="DBFS", help="speech energy threshold (default -40)")
    p.add_argument("--record-dir", metavar="DIR")
    p.add_argument("--no-record", action="store_true", help="do not record WAV files")
    p.add_argument("--hangup-after", type=float, metavar="S", help="hang up S seconds after answering")
    p.add_argument("--reg-interval", type=int, metavar="S")
    p.add_argument("--rtp-interval", type=float, metavar="S")
    p.add_argument("--local-address", metavar="ADDR")
    p.add_argument("--tls-ca-file", metavar="PEM", help="CA bundle for the registrar's TLS certificate")
    p.add_argument("--stt-model", metavar="DIR", help="faster-whisper model directory (phone-stt extra)")
    p.add_argument("--once", action="store_true", help="exit after the first call ends")
    # The console's child: when the console's end of stdin closes (it exited, even uncleanly), hang up and
    # unregister rather than stay registered with nobody to drive it.
    p.add_argument("--stop-on-stdin-eof", action="store_true", help=argparse.SUPPRESS)
    return p


def _overrides(ns: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {key: getattr(ns, flag) for flag, key in _FLAGS.items() if getattr(ns, flag) is not None}
    if ns.srtp:
        out["phone.srtp"] = True
    if ns.say:
        out["phone.lines"] = ns.say
    if ns.no_record:
        out["phone.record"] = False
    return out


def _password(phone: PhoneSettings, password_env: str | None) -> str | None:
    if password_env:
        return os.environ.get(password_env) or None
    if phone.password is not None and phone.password.get_secret_value():
        return phone.password.get_secret_value()
    if sys.stdin.isatty():
        with contextlib.suppress(EOFError, KeyboardInterrupt):
            return getpass.getpass(f"password for extension {phone.extension}: ") or None
    return None


def run_phone(ns: argparse.Namespace) -> int:
    def fail(message: str, code: int = EXIT_USAGE) -> int:
        print(f"voipbin-tui phone: {message}", file=sys.stderr)
        return code

    try:
        settings, _ = load_settings(ns.config, ns.profile, _overrides(ns))
    except ConfigError as exc:
        return fail(str(exc))
    phone = settings.phone
    if not phone.extension or not phone.domain:
        return fail("give the extension and its domain (--extension, --domain or the [phone] table)")
    password = _password(phone, ns.password_env)
    if password is None:
        where = f"${ns.password_env} is empty or unset" if ns.password_env else "set VOIPBIN_PHONE__PASSWORD"
        return fail(f"no password for extension {phone.extension}: {where} (or give --password-env VAR)")
    secrets = [*settings.secrets(), password]
    log_path = Path(settings.log.file) if settings.log.file else user_state_dir() / "phone.log"
    configure_file_logging(log_path, settings.log.level, lambda: secrets)
    from tui.phone.engine import EngineUnavailable, PhoneAccount
    from tui.phone.engines import make_engine

    account = PhoneAccount(
        user=phone.extension,
        domain=phone.domain,
        password=password,
        registrar=phone.registrar,
        transport=phone.transport,
        srtp=phone.srtp,
        reg_interval=phone.reg_interval,
        local_host=phone.local_address,
        tls_ca_file=phone.tls_ca_file,
    )
    try:
        engine = make_engine(phone.engine, account)
    except EngineUnavailable as exc:
        return fail(str(exc))
    try:
        return asyncio.run(_run(engine, account, phone, ns.once, secrets, stop_on_eof=ns.stop_on_stdin_eof))
    except KeyboardInterrupt:
        return EXIT_OK
    except _BadLine as exc:
        return fail(str(exc))


class _BadLine(Exception):
    pass


async def _run(
    engine: Any, account: Any, phone: PhoneSettings, once: bool, secrets: list[str], *, stop_on_eof: bool = False
) -> int:
    from tui.phone.runner import PhoneOptions, PhoneRunner, load_utterance
    from tui.phone.tts import TtsUnavailable, synthesize

    out = sys.stdout
    stop = asyncio.Event()

    def emit(line: dict[str, Any]) -> None:
        text = json.dumps(line, ensure_ascii=False, separators=(",", ":"), default=str)
        try:
            out.write(redact_text(text, secrets) + "\n")
            out.flush()
        except (BrokenPipeError, ValueError):
            stop.set()

    # Bad lines are found before registering, so nothing is half-started.
    for index, line in enumerate(phone.lines, 1):
        try:
            load_utterance(line, synthesize)
        except TtsUnavailable as exc:
            raise _BadLine(f"line {index} is text: {exc}") from None
        except (OSError, ValueError) as exc:
            raise _BadLine(f"line {index}: {exc}") from None
    transcriber = None
    if phone.stt_model:
        from tui.phone.stt import SttUnavailable, load_transcriber

        try:
            transcriber = load_transcriber(phone.stt_model)
        except SttUnavailable as exc:
            print(f"voipbin-tui phone: {exc}; `heard` lines carry segments only", file=sys.stderr)
    record_dir = _record_dir(phone)
    options = PhoneOptions(
        answer=phone.answer,
        answer_delay=phone.answer_delay,
        lines=list(phone.lines),
        cue=phone.cue,
        cue_seconds=phone.cue_seconds,
        gap=phone.gap,
        threshold_dbfs=phone.energy_threshold_dbfs,
        record_dir=record_dir,
        hangup_after=phone.hangup_after,
        rtp_interval=phone.rtp_interval,
        once=once,
    )
    runner = PhoneRunner(engine, account, options, emit, transcriber=transcriber)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    _read_commands(loop, runner.commands, stop if stop_on_eof else None)
    if phone.answer == "manual" and sys.stdin.isatty():
        print("voipbin-tui phone: manual answer: press Enter to answer, type reject to decline", file=sys.stderr)
    status = await runner.run(stop)
    if status != EXIT_OK:
        print("voipbin-tui phone: registration failed (see the error line)", file=sys.stderr)
        return EXIT_ERROR
    return status


def _record_dir(phone: PhoneSettings) -> Path | None:
    if not phone.record:
        return None
    return Path(phone.record_dir).expanduser() if phone.record_dir else user_state_dir() / "phone"


def _read_commands(
    loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str], stop_at_eof: asyncio.Event | None = None
) -> None:
    """Stdin lines become commands; a daemon thread, since a blocking read cannot be cancelled."""
    if sys.stdin is None or sys.stdin.closed:
        return

    def reader() -> None:
        with contextlib.suppress(Exception):
            for line in sys.stdin:
                loop.call_soon_threadsafe(queue.put_nowait, line[:2000])
        if stop_at_eof is not None:
            with contextlib.suppress(RuntimeError):  # the loop may already be closed
                loop.call_soon_threadsafe(stop_at_eof.set)

    threading.Thread(target=reader, name="phone-stdin", daemon=True).start()
