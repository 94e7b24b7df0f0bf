"""/caller against a standalone sandbox given by URL uses its control API (not "unknown command")."""

from __future__ import annotations

from pathlib import Path

from tests.ui.conftest import live_call, type_line, wait_until
from tui.config import quick_probe
from tui.options import ConsoleOptions
from tui.runtime import ConsoleRuntime
from tui.sandbox import EmbeddedSandbox, SandboxSettings
from tui.ui.app import VoipbinApp
from tui.wiring import standalone_control


async def test_only_a_loopback_rest_base_gets_a_control_client() -> None:
    assert standalone_control("https://api.voipbin.net/v1.0") is None
    assert standalone_control("http://127.0.0.1:8080/elsewhere") is None
    control = standalone_control("http://127.0.0.1:8080/v1.0")
    assert control is not None
    await control.aclose()


async def test_caller_line_on_a_sandbox_given_by_url(tmp_path: Path) -> None:
    async with EmbeddedSandbox(SandboxSettings(speed=25, random_seed=11)) as sb:
        config = tmp_path / "config.toml"
        config.write_text(
            f'api_url = "{sb.api_url}"\naccesskey = "{sb.accesskey}"\nuse_sandbox = "never"\n'
            f'[session]\nrecord_dir = "{tmp_path / "records"}"\nexport_dir = "{tmp_path / "exports"}"\n'
            f'[log]\nfile = "{tmp_path / "console.log"}"\n[dial]\nsleep_ms = 3600000\n',
            encoding="utf-8",
        )
        options = ConsoleOptions(config=str(config), dial=True, theme="voipbin-dark")
        app = VoipbinApp(ConsoleRuntime(options, quick_probe(options.config)))
        async with app.run_test(size=(100, 30)) as pilot:
            assert app.runtime.mode == "service"
            await live_call(pilot, app)
            await type_line(pilot, "/caller Hello from the far end.")
            assert "unknown command" not in app.call_screen.notice.plain
            await wait_until(
                pilot,
                lambda: any("Hello from the far end." in ln.text for ln in app.call_screen.transcript.lines),
                "the caller's line",
                timeout=15,
            )
