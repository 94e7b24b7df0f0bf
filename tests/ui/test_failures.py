"""Start-up failures and internal errors end the console with one line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.conftest import AppFactory, wait_until, write_config
from tui.config import quick_probe
from tui.options import ConsoleOptions
from tui.runtime import ConsoleRuntime
from tui.ui.app import VoipbinApp


async def test_a_bad_config_ends_with_one_line_and_code_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(
        tmp_path / "config.toml", {"ui": {"colour_scheme": "pink"}, "log": {"file": str(tmp_path / "console.log")}}
    )
    options = ConsoleOptions(config=str(config))
    app = VoipbinApp(ConsoleRuntime(options, quick_probe(options.config)))
    async with app.run_test(size=(80, 24)) as pilot:
        assert "SANDBOX" in app.call_screen.header.plain, "the first frame is up before settings are read"
        await wait_until(pilot, lambda: app.return_code is not None, "the console to give up")
    assert app.return_code == 1
    err = capsys.readouterr().err
    assert "voipbin-tui: cannot start: invalid settings" in err
    assert "ui.colour_scheme: unknown key" in err
    assert "Traceback" not in err


async def test_an_unexpected_error_is_logged_not_printed(
    make_app: AppFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app()

    def boom() -> None:
        raise RuntimeError("boom")

    async def drive() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: app.started, "start-up")
            app.call_later(boom)
            await wait_until(pilot, lambda: app.return_code is not None, "the console to stop")

    # Pilot re-raises what ended the app so that tests notice; a terminal would only see one line.
    with pytest.raises(RuntimeError, match="boom"):
        await drive()
    assert app.return_code == 1
    err = capsys.readouterr().err
    assert "voipbin-tui: internal error: RuntimeError: boom (details in " in err
    assert "Traceback" not in err
    log = (make_app.tmp_path / "console.log").read_text()
    assert "unhandled error in the console" in log
    assert "RuntimeError: boom" in log


async def test_a_refused_login_names_the_url_the_hint_once_and_the_sandbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.sandbox import EmbeddedSandbox, SandboxSettings

    async with EmbeddedSandbox(SandboxSettings(speed=20)) as sb:
        config = tmp_path / "config.toml"
        config.write_text(
            f'api_url = "{sb.api_url}"\naccesskey = "vb_wrongwrongwrong"\n[log]\nfile = "{tmp_path / "c.log"}"\n',
            encoding="utf-8",
        )
        options = ConsoleOptions(config=str(config))
        app = VoipbinApp(ConsoleRuntime(options, quick_probe(options.config)))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: app.return_code is not None, "the console to give up")
    assert app.return_code == 1
    # Rich folds the message at the terminal's width: compare words, not line breaks.
    err = " ".join(capsys.readouterr().err.split())
    assert "voipbin-tui: cannot start: GET /v1.0/customer failed (401" in err
    assert f"tried {sb.api_url}" in err
    assert "voipbin-tui --sandbox" in err
    assert err.count("check the accesskey") == 1
    assert "vb_wrongwrongwrong" not in err


def test_a_rest_base_without_v1_0_is_named() -> None:
    from tui.start_problem import start_problem
    from tui.voipbin.errors import TransportError

    text = start_problem(TransportError("connection refused"), "https://api.example.test", service=True)
    assert "tried https://api.example.test" in text
    assert "must end with /v1.0" in text
    assert "voipbin-tui --sandbox" in text
    assert start_problem(TransportError("x"), "", service=False).count("\n") == 0
