"""Launch the console: decide the mode cheaply, paint, then let the runtime do the heavy work."""

from __future__ import annotations

import logging
import sys

from tui.cli import EXIT_ERROR, ConsoleOptions


def run_console(options: ConsoleOptions) -> int:
    # Until the log file is configured (after the first paint) records must not reach the terminal.
    logging.getLogger().addHandler(logging.NullHandler())
    logging.lastResort = None
    from tui.configfile import quick_probe

    probe = quick_probe(options.config, options.profile, force_sandbox=options.sandbox)
    from tui.runtime import Runtime

    runtime = Runtime(options, probe)
    try:
        from tui.ui.app import VoipbinApp

        app = VoipbinApp(runtime)
        app.run()
    except KeyboardInterrupt:
        return 0
    except Exception as exc:  # the app failed to start or crashed: one line, details in the log
        logging.getLogger(__name__).exception("console crashed")
        where = f" (details in {runtime.log_path})" if runtime.log_path else ""
        print(f"voipbin-tui: {type(exc).__name__}: {exc}{where}", file=sys.stderr)
        return EXIT_ERROR
    code = app.return_code
    return int(code) if code is not None else 0
