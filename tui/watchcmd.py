"""``voipbin-tui watch``: tail an account's call events as JSON lines on stdout.

stdout carries only the JSON lines (for ``jq``); problems go to stderr as one clear sentence; the log
file gets the details. SIGINT and SIGTERM end it with status 0 at any moment, start-up included; start-up
and shut-down are bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import Any

from tui.config import ConfigError, Settings, load_settings, user_state_dir
from tui.logsetup import configure_file_logging
from tui.options import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from tui.voipbin.events import ConnectionState
from tui.voipbin.redact import redact_text
from tui.voipbin.safetext import safe_json_text, safe_text

#: Longest line written to stderr (a 50 MB error message was once printed whole).
STDERR_LINE_MAX = 2000
STDERR_LIMIT = STDERR_LINE_MAX


def complain(text: str, *, lines: bool = False) -> None:
    """A problem on stderr: one line (or the message's own lines), controls escaped (a server's words must
    not drive the terminal), bounded."""
    print(safe_text(text, newlines=lines, limit=STDERR_LINE_MAX), file=sys.stderr, flush=True)


#: Longest wait for a clean close after a signal.
SHUTDOWN_S = 5.0


def _overrides(ns: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"api_url": ns.api_url}
    if ns.accesskey:
        out["accesskey"] = ns.accesskey
    if ns.token:
        out["token"] = ns.token
    if ns.username:
        out["username"] = ns.username
    if ns.password_env:
        out["password_env"] = ns.password_env
    return out


def run_watch(ns: argparse.Namespace) -> int:
    # From here on SIGTERM behaves like SIGINT: start-up may be stopped at any moment, with status 0.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _run(ns)
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _run(ns: argparse.Namespace) -> int:
    try:
        settings, _ = load_settings(ns.config, ns.profile, _overrides(ns))
    except ConfigError as exc:
        complain(f"voipbin-tui watch: {exc}", lines=True)
        return EXIT_USAGE
    if ns.username and not settings.resolved_password():
        var = ns.password_env or settings.password_env
        where = f"${var} is empty or unset" if var else "give --password-env VAR"
        complain(f"voipbin-tui watch: no password for {ns.username}: {where}")
        return EXIT_USAGE
    if not settings.has_credentials():
        complain(
            "voipbin-tui watch: no credentials: give --accesskey, --token or --username with --password-env "
            "(or set VOIPBIN_ACCESSKEY)"
        )
        return EXIT_USAGE
    log_path = Path(settings.log.file) if settings.log.file else user_state_dir() / "watch.log"
    configure_file_logging(log_path, settings.log.level, settings.secrets)
    return asyncio.run(_watch(settings, include_speech=not ns.no_speech))


def _say(text: str) -> None:
    """One line on stderr: controls escaped, cut to a sane length (the full text is in the log)."""
    complain(f"voipbin-tui watch: {text}")


async def _watch(settings: Settings, *, include_speech: bool) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    from tui.session.watch import AccountWatcher
    from tui.voipbin.errors import VoipbinError
    from tui.wiring import account_for

    secrets = settings.secrets()
    out = sys.stdout

    def emit(line: dict[str, Any]) -> None:
        if not include_speech and line.get("kind") == "speech":
            return
        text = json.dumps(line, ensure_ascii=False, separators=(",", ":"), default=str)
        try:
            # Same JSON, but DEL, C1 and bidi/format characters as \u escapes: stdout is often a terminal.
            out.write(safe_json_text(redact_text(text, secrets)) + "\n")
            out.flush()
        except (BrokenPipeError, ValueError):
            # The reader went away (`watch | head`): nothing left to do.
            stop.set()

    account = account_for(settings)
    if account.client.plaintext_warning:
        _say(f"warning: {account.client.plaintext_warning}")
    watcher = AccountWatcher(account, emit)
    watcher.attach()
    closed = asyncio.Event()
    refused = False

    def on_connection(state: ConnectionState) -> None:
        nonlocal refused
        if state.state == "closed" and state.fatal:
            _say(f"event channel closed: {state.error}")
            closed.set()
        elif state.unauthorized and not refused:
            refused = True
            _say(f"event channel unauthorized, retrying: {state.error}")
        elif state.state in ("connected", "reconnected") and refused:
            refused = False
            _say("event channel authorised again")

    account.listen(on_connection=on_connection)
    status = EXIT_OK
    stopper = asyncio.create_task(stop.wait())
    try:
        # Start-up is bounded and gives way to a signal: a server that never answers must not hold us.
        starting = asyncio.create_task(account.start(wait_connected=None))
        limit = settings.network.request_deadline * 2 + 5.0
        done, _ = await asyncio.wait({starting, stopper}, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
        if starting not in done:
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await starting
            if stopper in done:
                return EXIT_OK
            _say(f"no answer from {redact_text(settings.api_url, secrets)} within {limit:g} s")
            return EXIT_ERROR
        try:
            starting.result()
        except VoipbinError as exc:
            hint = exc.hint()
            _say(f"{exc}" + (f" — {hint}" if hint else ""))
            return EXIT_ERROR
        closer = asyncio.create_task(closed.wait())
        await asyncio.wait({stopper, closer}, return_when=asyncio.FIRST_COMPLETED)
        closer.cancel()
        if closed.is_set() and not stop.is_set():
            status = EXIT_ERROR
    finally:
        stopper.cancel()
        # Closing is bounded too: a server that never finishes a close handshake must not keep us.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(_close(watcher, account), SHUTDOWN_S)
        with contextlib.suppress(Exception):
            out.flush()
    return status


async def _close(watcher: Any, account: Any) -> None:
    await watcher.close()
    await account.close()
