"""Launch the console: decide the mode cheaply, paint, then let the runtime do the heavy work."""

from __future__ import annotations

import logging
import os
import sys

from tui.gc_tuning import tune_collector
from tui.options import EXIT_ERROR, ConsoleOptions

# Textual repaints at most TEXTUAL_FPS times a second (default 60): at 60 a transcript line waits up to
# 16.7 ms for its frame, which alone eats the latency budget (bench/: event_added_latency). Repaints
# only happen when something changed, so a higher cap costs nothing while the call is quiet.
DEFAULT_FPS = "120"


def prepare_environment() -> None:
    """Process-wide settings that must be in place before Textual is imported."""
    os.environ.setdefault("TEXTUAL_FPS", DEFAULT_FPS)


def run_console(options: ConsoleOptions) -> int:
    prepare_environment()
    # Until the log file is configured (after the first paint) records must not reach the terminal.
    logging.getLogger().addHandler(logging.NullHandler())
    logging.lastResort = None
    from tui.configfile import quick_probe

    probe = quick_probe(options.config, options.profile, force_sandbox=options.sandbox)
    from tui.runtime import ConsoleRuntime

    runtime = ConsoleRuntime(options, probe)
    try:
        from tui.ui.app import VoipbinApp

        app = VoipbinApp(runtime)
        tune_collector()
        app.run()
    except KeyboardInterrupt:
        return 0
    except Exception as exc:  # the app failed to start or crashed: one line, details in the log
        logging.getLogger(__name__).exception("console crashed")
        where = f" (details in {runtime.log_path})" if runtime.log_path else ""
        from tui.voipbin.redact import redact_text
        from tui.voipbin.safetext import safe_line

        # One line, controls escaped, bounded: the error text may quote a server.
        detail = safe_line(redact_text(f"{type(exc).__name__}: {exc}", runtime.secrets()), 2000)
        print(f"voipbin-tui: {detail}{safe_line(where)}", file=sys.stderr)
        return EXIT_ERROR
    code = app.return_code
    if app.exit_line:
        print(f"voipbin-tui: {app.exit_line}")
    return int(code) if code is not None else 0
