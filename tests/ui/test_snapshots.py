"""SVG snapshots of each screen at 80×24 and 140×40, from a scripted call with fixed ids and times.

Update them with ``pytest tests/ui/test_snapshots.py --snapshot-update`` after a deliberate change, and
look at the pictures (``--snapshot-report``) before committing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import write_config
from tests.ui.fakes import fake_app
from tui.ui.app import VoipbinApp
from tui.ui.screens.dial import DialScreen

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((140, 40), id="140x40")]

Snap = Callable[..., bool]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(
        tmp_path / "config.toml",
        {
            "session": {"record_dir": str(tmp_path / "records"), "export_dir": str(tmp_path / "exports")},
            "log": {"file": str(tmp_path / "console.log")},
        },
    )


@pytest.fixture
def wide_log_config(tmp_path: Path) -> Path:
    return write_config(
        tmp_path / "config.toml",
        {
            "session": {"record_dir": str(tmp_path / "records"), "export_dir": str(tmp_path / "exports")},
            "log": {"file": str(tmp_path / "console.log")},
            "ui": {"show_event_log": True},
        },
    )


async def until(pilot: Pilot[Any], predicate: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the scripted state never arrived"
        await asyncio.sleep(0.01)
        await pilot.pause()
    await pilot.pause()


def live(app: VoipbinApp) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run(pilot: Pilot[Any]) -> None:
        await until(
            pilot,
            lambda: app.session is not None and app.session.phase == "live" and len(app.call_screen.transcript) >= 7,
        )
        app.call_screen.say_box.value = "Thanks, that is all"

    return run


def ended(app: VoipbinApp) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run(pilot: Pilot[Any]) -> None:
        await live(app)(pilot)
        app.call_screen.say_box.value = ""
        await pilot.press("f8")
        await until(pilot, lambda: app.call_screen.summary.lines != [])

    return run


@pytest.mark.parametrize("size", SIZES)
def test_dial_form(snap_compare: Snap, config: Path, size: tuple[int, int]) -> None:
    app = fake_app(config, dial=False)

    async def run(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: isinstance(app.screen, DialScreen) and bool(app.screen.query("#dial-go")))
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_live_call(snap_compare: Snap, wide_log_config: Path, size: tuple[int, int]) -> None:
    app = fake_app(wide_log_config)
    assert snap_compare(app, terminal_size=size, run_before=live(app))


@pytest.mark.parametrize("size", SIZES)
def test_ended_call(snap_compare: Snap, config: Path, size: tuple[int, int]) -> None:
    app = fake_app(config)
    assert snap_compare(app, terminal_size=size, run_before=ended(app))


def test_live_call_ansi_theme(snap_compare: Snap, config: Path) -> None:
    app = fake_app(config, theme="ansi")
    assert snap_compare(app, terminal_size=(80, 24), run_before=live(app))
