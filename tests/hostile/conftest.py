"""The console against hostile text: its own sandbox with hostile settings, or the real sandbox behind the
content-injecting proxy (service mode, as against a self-hosted VoIPBIN)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.segment import Segment
from textual.geometry import Region
from textual.widget import Widget

from tests.hostile.corpus import RAW_MARKERS
from tests.hostile.proxy import HostilePlan, HostileProxy
from tests.ui.conftest import toml_value
from tui.cli import ConsoleOptions
from tui.config import quick_probe
from tui.runtime import ConsoleRuntime
from tui.sandbox import EmbeddedSandbox, SandboxSettings
from tui.ui.app import VoipbinApp

SPEED = 25.0


def console(
    tmp_path: Path,
    *,
    top: Mapping[str, Any] | None = None,
    sandbox: Mapping[str, Any] | None = None,
    dial: bool = False,
    attach: str | None = None,
) -> VoipbinApp:
    tables: dict[str, Mapping[str, Any]] = {
        "sandbox": {"speed": SPEED, "random_seed": 11, **(sandbox or {})},
        "session": {"record_dir": str(tmp_path / "records"), "export_dir": str(tmp_path / "exports")},
        "log": {"file": str(tmp_path / "console.log"), "level": "DEBUG"},
        "dial": {"sleep_ms": 3_600_000},
    }
    lines = [f"{k} = {toml_value(v)}" for k, v in (top or {}).items()]
    for table, values in tables.items():
        lines += ["", f"[{table}]", *(f"{k} = {toml_value(v)}" for k, v in values.items())]
    config = tmp_path / "config.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    options = ConsoleOptions(config=str(config), dial=dial, attach=attach, theme="voipbin-dark")
    return VoipbinApp(ConsoleRuntime(options, quick_probe(options.config)))


@dataclass
class Hostile:
    sandbox: EmbeddedSandbox
    proxy: HostileProxy

    def app(self, tmp_path: Path, *, dial: bool = False) -> VoipbinApp:
        """A console in service mode whose VoIPBIN is the proxy."""
        return console(tmp_path, top={"api_url": self.proxy.api_url, "accesskey": self.sandbox.accesskey}, dial=dial)


@contextlib.asynccontextmanager
async def hostile_service(plan: HostilePlan) -> AsyncIterator[Hostile]:
    """The real sandbox (on loopback) behind the content-injecting proxy."""
    settings = SandboxSettings(speed=SPEED, random_seed=11)
    async with EmbeddedSandbox(settings) as sandbox, HostileProxy(sandbox.root_url, plan) as proxy:
        yield Hostile(sandbox, proxy)


# -- what is on screen --------------------------------------------------------------------------------------


def widget_segments(widget: Widget) -> list[Segment]:
    width, height = widget.size
    if not widget.display or width <= 0 or height <= 0:
        return []
    return [seg for strip in widget.render_lines(Region(0, 0, width, height)) for seg in strip]


def screens_segments(app: VoipbinApp) -> list[Segment]:
    """Every segment every widget of every screen on the stack draws (toasts included)."""
    out: list[Segment] = []
    for screen in app.screen_stack:
        for widget in screen.walk_children(with_self=False):
            if isinstance(widget, Widget):
                out.extend(widget_segments(widget))
    return out


def screen_text(app: VoipbinApp) -> str:
    return "".join(seg.text for seg in screens_segments(app))


def click_actions(app: VoipbinApp) -> list[str]:
    """Every ``@click`` action any drawn cell carries (markup links become these)."""
    actions = []
    for seg in screens_segments(app):
        meta = seg.style.meta if seg.style is not None else {}
        if "@click" in meta:
            actions.append(str(meta["@click"]))
    return actions


def raw_markers(texts: Iterable[str]) -> list[tuple[int, str]]:
    return [(i, m) for i, text in enumerate(texts) for m in RAW_MARKERS if m in text]
