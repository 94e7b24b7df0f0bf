"""``voipbin-tui watch``: tail an account's call events as JSON lines on stdout.

stdout carries only the JSON lines (for ``jq``); problems go to stderr as one clear sentence; the log
file gets the details. SIGINT and SIGTERM end it with status 0.
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
from tui.voipbin.redact import redact_text


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
    try:
        settings, _ = load_settings(ns.config, ns.profile, _overrides(ns))
    except ConfigError as exc:
        print(f"voipbin-tui watch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if ns.username and not settings.resolved_password():
        var = ns.password_env or settings.password_env
        where = f"${var} is empty or unset" if var else "give --password-env VAR"
        print(f"voipbin-tui watch: no password for {ns.username}: {where}", file=sys.stderr)
        return EXIT_USAGE
    if not settings.has_credentials():
        print(
            "voipbin-tui watch: no credentials: give --accesskey, --token or --username with --password-env "
            "(or set VOIPBIN_ACCESSKEY)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    log_path = Path(settings.log.file) if settings.log.file else user_state_dir() / "watch.log"
    configure_file_logging(log_path, settings.log.level, settings.secrets)
    try:
        return asyncio.run(_watch(settings, include_speech=not ns.no_speech))
    except KeyboardInterrupt:
        return EXIT_OK


async def _watch(settings: Settings, *, include_speech: bool) -> int:
    from tui.session.watch import AccountWatcher
    from tui.voipbin.errors import VoipbinError
    from tui.wiring import account_for

    secrets = settings.secrets()
    out = sys.stdout
    stop = asyncio.Event()

    def emit(line: dict[str, Any]) -> None:
        if not include_speech and line.get("kind") == "speech":
            return
        text = json.dumps(line, ensure_ascii=False, separators=(",", ":"), default=str)
        try:
            out.write(redact_text(text, secrets) + "\n")
            out.flush()
        except (BrokenPipeError, ValueError):
            # The reader went away (`watch | head`): nothing left to do.
            stop.set()

    account = account_for(settings)
    watcher = AccountWatcher(account, emit)
    watcher.attach()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    status = EXIT_OK
    try:
        try:
            await account.start(wait_connected=None)
        except VoipbinError as exc:
            from tui.start_problem import start_problem

            print(f"voipbin-tui watch: {start_problem(exc, settings.api_url, service=False)}", file=sys.stderr)
            return EXIT_ERROR
        closed = asyncio.Event()

        def on_connection(state: Any) -> None:
            if state.state == "closed" and getattr(state, "fatal", False):
                print(f"voipbin-tui watch: event channel closed: {state.error}", file=sys.stderr)
                closed.set()

        account.listen(on_connection=on_connection)
        stopper = asyncio.create_task(stop.wait())
        closer = asyncio.create_task(closed.wait())
        done, pending = await asyncio.wait({stopper, closer}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        if closer in done:
            status = EXIT_ERROR
    finally:
        await watcher.close()
        await account.close()
        with contextlib.suppress(Exception):
            out.flush()
    return status
