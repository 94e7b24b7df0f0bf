"""The real console, headless, dialled into the bench server, with probes on what it draws.

The app is the one users run (``VoipbinApp`` with a ``ConsoleRuntime`` reading a config file), pointed at the
bench server as if it were VoIPBIN. Two probes wrap drawing methods of the live widgets:

- the transcript view's ``render_line``: the first time a row of an injected transcript is drawn, its
  latency is now minus the send time embedded in its text;
- the say box's ``render_line``: the first draw that shows a newly typed character.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.server import BenchServer, stamp_of

if TYPE_CHECKING:
    from tui.ui.app import VoipbinApp


@dataclass
class Probe:
    """What the probes saw."""

    painted: dict[str, float] = field(default_factory=dict)  # transcript key -> latency ms
    inserted: int = 0  # injected transcripts that reached the view (the book never inserts one twice)
    # Off for the memory measurement: a dict of 100 000 latencies would be counted as the app's growth.
    watch_paint: bool = True
    keys_sent: list[float] = field(default_factory=list)  # monotonic time of each key press
    keys_shown: list[float] = field(default_factory=list)  # monotonic time each char was first drawn

    def reset(self) -> None:
        self.painted.clear()
        self.inserted = 0
        self.keys_sent.clear()
        self.keys_shown.clear()


async def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def _isolate_user_dirs(home: Path) -> dict[str, str | None]:
    saved = {k: os.environ.get(k) for k in ("HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME")}
    os.environ["HOME"] = str(home)
    os.environ["XDG_CONFIG_HOME"] = str(home / ".config")
    os.environ["XDG_STATE_HOME"] = str(home / ".local" / "state")
    os.environ["XDG_DATA_HOME"] = str(home / ".local" / "share")
    return saved


def _restore(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@contextlib.asynccontextmanager
async def console(srv: BenchServer, *, size: tuple[int, int] = (120, 40)) -> AsyncIterator[tuple[VoipbinApp, Probe]]:
    """The console running headless, its call answered and transcribing, probes installed."""
    from bench.process_settings import standing_in_for
    from tui.configfile import quick_probe
    from tui.gc_tuning import tune_collector
    from tui.options import ConsoleOptions
    from tui.runtime import ConsoleRuntime
    from tui.ui.app import VoipbinApp

    with tempfile.TemporaryDirectory(prefix="voipbin-bench-") as tmp, contextlib.ExitStack() as settings:
        home = Path(tmp)
        saved = _isolate_user_dirs(home)
        try:
            config = home / "config.toml"
            config.write_text(
                f'api_url = "{srv.info["api_url"]}"\naccesskey = "{srv.info["accesskey"]}"\n'
                'use_sandbox = "never"\n[dial]\ngreeting = "Hi."\n',
                encoding="utf-8",
            )
            options = ConsoleOptions(config=str(config), dial=True)
            runtime = ConsoleRuntime(options, quick_probe(options.config))
            app = VoipbinApp(runtime)
            # What `voipbin-tui` does before it runs the app (tui/console.py): this process stands in for it.
            settings.enter_context(standing_in_for(tune_collector))
            probe = Probe()
            async with app.run_test(headless=True, size=size):
                session = await wait_until(lambda: app.session, 30, "the call")
                await wait_until(lambda: session.transcribes and session.speech.phase == "active", 30, "answer")
                _install_probes(app, probe)
                yield app, probe
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(session.hangup(), 5)
        finally:
            _restore(saved)


def _install_probes(app: VoipbinApp, probe: Probe) -> None:
    view = app.call_screen.transcript
    original_render = view.render_line
    original_apply = view.apply

    def render_line(y: int) -> Any:
        strip = original_render(y)
        # Which entry is on this row: the same arithmetic the view uses.
        offsets = view._offsets
        valid = min(view._dirty_from, len(offsets) - 1, len(view._entries))
        row = view.scroll_offset.y + y + offsets[0]
        if valid > 0 and row < offsets[valid]:
            from bisect import bisect_right

            index = bisect_right(offsets, row, 0, valid + 1) - 1
            line = view._entries[index].line
            if probe.watch_paint and line.key not in probe.painted and line.kind == "transcript":
                sent = stamp_of(line.text)
                if sent is not None:
                    probe.painted[line.key] = (time.monotonic() - sent) * 1000.0
        return strip

    def apply(changes: Any) -> None:
        changes = list(changes)
        for change in changes:
            if change.op == "insert" and change.line.kind == "transcript" and change.line.text.startswith("bench "):
                probe.inserted += 1
        original_apply(changes)

    view.render_line = render_line  # type: ignore[method-assign]
    view.apply = apply  # type: ignore[method-assign]

    box = app.call_screen.say_box
    original_box_render = box.render_line

    def box_render_line(y: int) -> Any:
        strip = original_box_render(y)
        shown = len(box.value)
        while len(probe.keys_shown) < min(shown, len(probe.keys_sent)):
            probe.keys_shown.append(time.monotonic())
        return strip

    box.render_line = box_render_line  # type: ignore[method-assign]


def press(app: VoipbinApp, key: str, char: str | None, probe: Probe | None = None) -> None:
    """A key press as the terminal driver delivers it, without waiting for the app to settle."""
    from textual import events

    event = events.Key(key, char)
    event.set_sender(app)
    driver = app._driver
    assert driver is not None
    if probe is not None:
        probe.keys_sent.append(time.monotonic())
    driver.send_message(event)
