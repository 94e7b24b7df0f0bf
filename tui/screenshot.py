"""Make the README screenshot: ``python -m tui.screenshot OUT.svg [--size 120x34]``.

Runs the console headless on the embedded sandbox through a short call (dialled, greeting heard, one
line said and heard, the caller speaking) and saves the screen as SVG. Settings, logs and records go to
a temporary directory, so nothing of the machine it runs on ends up in the picture or in the user's
state dir.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from tui.ui.app import VoipbinApp

SAID = "Hello, how are you today? This is VoIPBIN speaking in real time."
CALLER = "I can hear you clearly, thank you."


async def _until(pilot: Pilot[Any], predicate: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"screenshot: gave up waiting for {what}")
        await pilot.pause(0.05)


def _texts(app: VoipbinApp, direction: str) -> list[str]:
    return [ln.text for ln in app.call_screen.transcript.lines if ln.kind == "transcript" and ln.direction == direction]


async def make_screenshot(size: tuple[int, int]) -> str:
    """The SVG of the console after a short sandbox call."""
    from tui.configfile import quick_probe
    from tui.options import ConsoleOptions
    from tui.runtime import ConsoleRuntime
    from tui.ui.app import VoipbinApp

    with tempfile.TemporaryDirectory(prefix="voipbin-tui-shot-") as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(
            "[sandbox]\nspeed = 10\ncaller_script = []\n"
            f'[session]\nrecord_dir = "{Path(tmp) / "records"}"\nexport_dir = "{Path(tmp) / "exports"}"\n'
            f'[log]\nfile = "{Path(tmp) / "console.log"}"\n',
            encoding="utf-8",
        )
        options = ConsoleOptions(config=str(config), sandbox=True, dial=True, theme="voipbin-dark")
        runtime = ConsoleRuntime(options, quick_probe(options.config, force_sandbox=True))
        app = VoipbinApp(runtime)
        async with app.run_test(size=size) as pilot:
            app.call_screen.say_box.cursor_blink = False
            await _until(
                pilot, lambda: app.session is not None and app.session.speech.phase == "active", "the speaking stream"
            )
            await _until(pilot, lambda: any("Speaking API" in t for t in _texts(app, "out")), "the greeting")
            session = app.session
            assert session is not None
            (item,) = session.say(SAID)
            await _until(pilot, lambda: item.state == "heard" and item.coverage > 0.9, "the said line")
            app.action_act("phone.say", CALLER)
            await _until(pilot, lambda: CALLER in _texts(app, "in"), "the caller line")
            await _until(
                pilot,
                lambda: not any(ln.kind == "interim" for ln in app.call_screen.transcript.lines),
                "the interim text to settle",
            )
            app.call_screen.say_box.value = "Thanks, that is all for today"
            await pilot.pause(0.2)
            return app.export_screenshot(title="voipbin-tui")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tui.screenshot", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="SVG file to write")
    parser.add_argument("--size", default="120x34", help="terminal size COLSxROWS (default 120x34)")
    ns = parser.parse_args(argv)
    cols, _, rows = ns.size.partition("x")
    os.environ.pop("NO_COLOR", None)
    try:
        svg = asyncio.run(make_screenshot((int(cols), int(rows))))
    except Exception as exc:
        print(f"screenshot failed: {exc}", file=sys.stderr)
        return 1
    ns.out.parent.mkdir(parents=True, exist_ok=True)
    ns.out.write_text(svg, encoding="utf-8")
    print(ns.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
