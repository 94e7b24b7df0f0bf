"""Helpers for driving the console with Pilot on the real embedded sandbox."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tui.config import quick_probe
from tui.options import ConsoleOptions
from tui.runtime import ConsoleRuntime
from tui.ui.app import VoipbinApp
from tui.ui.screens.dial import DialScreen

# Fast enough for a whole call in a couple of seconds, slow enough that each state is visible.
SPEED = 25.0


def toml_value(value: Any) -> str:
    """TOML for strings that carry any character: JSON's escapes are TOML's, except DEL must be escaped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def write_config(path: Path, tables: Mapping[str, Mapping[str, Any]]) -> Path:
    lines: list[str] = []
    for table, values in tables.items():
        lines.append(f"[{table}]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in values.items())
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


class AppFactory:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.record_dir = tmp_path / "records"
        self.export_dir = tmp_path / "exports"

    def __call__(
        self,
        *,
        dial: bool = False,
        attach: str | None = None,
        sandbox: Mapping[str, Any] | None = None,
        ui: Mapping[str, Any] | None = None,
        keymap: Mapping[str, str] | None = None,
        speaking: Mapping[str, Any] | None = None,
        dial_settings: Mapping[str, Any] | None = None,
        theme: str | None = "voipbin-dark",
        script: Path | None = None,
    ) -> VoipbinApp:
        tables: dict[str, Mapping[str, Any]] = {
            # At this speed a test longer than 12 s would pass the 5-minute transcription limit.
            "sandbox": {"speed": SPEED, "random_seed": 11, "transcribe_stream_limit": 0, **(sandbox or {})},
            "session": {"record_dir": str(self.record_dir), "export_dir": str(self.export_dir)},
            "log": {"file": str(self.tmp_path / "console.log"), "level": "DEBUG"},
            # The seed's 10 minutes last 24 s at this speed; an hour keeps slow CI machines safe.
            "dial": {"sleep_ms": 3_600_000, **(dial_settings or {})},
        }
        if ui:
            tables["ui"] = ui
        if keymap:
            tables["keymap"] = keymap
        if speaking:
            tables["speaking"] = speaking
        config = write_config(self.tmp_path / "config.toml", tables)
        options = ConsoleOptions(
            config=str(config), dial=dial, attach=attach, theme=theme, script=str(script) if script else None
        )
        runtime = ConsoleRuntime(options, quick_probe(options.config))
        return VoipbinApp(runtime)


@pytest.fixture
def make_app(tmp_path: Path) -> AppFactory:
    return AppFactory(tmp_path)


async def wait_until(pilot: Pilot[Any], predicate: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """Poll (letting the app run) until ``predicate()`` is truthy; fail with the app's state otherwise."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            state = app.describe() if isinstance(app, VoipbinApp) else ""
            notices = app.notices[-5:] if isinstance(app, VoipbinApp) else []
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; app: {state}; notices: {notices}")
        await pilot.pause(0.02)


def rows(app: VoipbinApp) -> list[str]:
    return app.call_screen.transcript.plain_rows()


def transcript_text(app: VoipbinApp) -> str:
    """The transcript as one string with rows joined, so wrapped lines can be matched too."""
    return " ".join(" ".join(r.split()) for r in rows(app))


def finals(app: VoipbinApp, direction: str | None = None) -> list[str]:
    return [
        ln.text
        for ln in app.call_screen.transcript.lines
        if ln.kind == "transcript" and (direction is None or ln.direction == direction)
    ]


async def type_line(pilot: Pilot[Any], text: str, *, keys: bool = False) -> None:
    """Put a line in the say box and press Enter; ``keys=True`` types it one key at a time (slow: ~0.1 s
    a key under Pilot, so only for short lines)."""
    app = pilot.app
    assert isinstance(app, VoipbinApp)
    box = app.call_screen.say_box
    if not box.has_focus:
        box.focus()
        await pilot.pause()
    box.value = ""
    if keys:
        await pilot.press(*[_key(ch) for ch in text])
        assert box.value == text, f"say box shows {box.value!r}, typed {text!r}"
    else:
        box.value = text
        box.cursor_position = len(text)
    await pilot.press("enter")


_KEYS = {
    " ": "space",
    "/": "slash",
    ".": "full_stop",
    ",": "comma",
    "?": "question_mark",
    "!": "exclamation_mark",
    "'": "apostrophe",
    "-": "minus",
    ":": "colon",
    "_": "underscore",
}


def _key(ch: str) -> str:
    return _KEYS.get(ch, ch)


async def live_call(pilot: Pilot[Any], app: VoipbinApp) -> None:
    """Wait until the --dial call is answered, its speaking stream is open and the greeting was heard."""
    await wait_until(
        pilot,
        lambda: app.session is not None and app.session.call is not None and app.session.call.status == "progressing",
        "the call to be answered",
    )
    await wait_until(
        pilot, lambda: app.session is not None and app.session.speech.phase == "active", "the speaking stream"
    )
    await wait_until(pilot, lambda: "real-time voice interaction test" in transcript_text(app), "the greeting")


async def dial_form(pilot: Pilot[Any], app: VoipbinApp) -> DialScreen:
    def ready() -> bool:
        screen = app.screen
        return isinstance(screen, DialScreen) and screen.is_mounted and bool(screen.query("#dial-go"))

    await wait_until(pilot, ready, "the dial form")
    screen = app.screen
    assert isinstance(screen, DialScreen)
    return screen


def server_control(app: VoipbinApp) -> str:
    sandbox = app.runtime.sandbox
    assert sandbox is not None
    return sandbox.control_url
