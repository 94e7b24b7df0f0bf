"""Start-up: launch → the first screen showing the mode banner, against a bare Textual app.

Both programs run in a real pseudo-terminal, alternately, so drift on a shared machine hits both
alike; the figure is the median of the per-pair ratios.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.terminal import time_to_marker

MARKER = b"SANDBOX"


def _env(home: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOIPBIN_")}
    env.update(
        HOME=home,
        XDG_CONFIG_HOME=f"{home}/.config",
        XDG_STATE_HOME=f"{home}/.local/state",
        TERM="xterm-256color",
        COLORTERM="truecolor",
    )
    env.pop("NO_COLOR", None)
    return env


def console_command() -> list[str]:
    script = Path(sys.executable).with_name("voipbin-tui")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tui"]


def measure_startup(pairs: int) -> dict[str, Any]:
    bare = [sys.executable, "-m", "bench.bare_app"]
    tui = console_command()
    ratios: list[float] = []
    tui_times: list[float] = []
    bare_times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="voipbin-bench-") as home:
        env = _env(home)
        # One unmeasured run of each: the first start pays for cold caches and .pyc writes.
        time_to_marker(tui, MARKER, env=env)
        time_to_marker(bare, MARKER, env=env)
        for i in range(pairs):
            order = [(tui, tui_times), (bare, bare_times)]
            if i % 2:
                order.reverse()
            for argv, sink in order:
                sink.append(time_to_marker(argv, MARKER, env=env))
            ratios.append(tui_times[-1] / bare_times[-1])
    return {
        "ratio": statistics.median(ratios),
        "tui_median_s": statistics.median(tui_times),
        "bare_median_s": statistics.median(bare_times),
        "pairs": pairs,
    }
