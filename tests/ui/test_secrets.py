"""No secret reaches the screen, the event log, the session record or the log file.

The password here matches no credential pattern, so only the secret wiring (runtime → record, log
filter, app) can keep it out; a JWT is issued by login, so the token is checked too.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.ui.conftest import live_call, type_line, wait_until
from tui.configfile import quick_probe
from tui.options import ConsoleOptions
from tui.runtime import ConsoleRuntime
from tui.sandbox import EmbeddedSandbox, SandboxSettings
from tui.ui.app import VoipbinApp

PASSWORD = "correct horse battery staple 42"
USERNAME = "agent.smith"


async def test_service_mode_with_a_password_leaks_it_nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = SandboxSettings(speed=25, username=USERNAME, password=PASSWORD, random_seed=3)
    async with EmbeddedSandbox(settings) as sb:
        monkeypatch.setenv("VTUI_TEST_PW", PASSWORD)
        config = tmp_path / "config.toml"
        config.write_text(
            f'api_url = "{sb.api_url}"\nusername = "{USERNAME}"\npassword_env = "VTUI_TEST_PW"\n'
            'use_sandbox = "never"\n'
            f'[session]\nrecord_dir = "{tmp_path / "records"}"\n'
            f'[log]\nlevel = "DEBUG"\nfile = "{tmp_path / "app.log"}"\n'
            "[ui]\nshow_event_log = true\n",
            encoding="utf-8",
        )
        options = ConsoleOptions(config=str(config), dial=True)
        runtime = ConsoleRuntime(options, quick_probe(options.config))
        app = VoipbinApp(runtime)
        async with app.run_test(size=(140, 40)) as pilot:
            await live_call(pilot, app)
            assert runtime.mode == "service"
            account = runtime.account
            assert account is not None
            token = account.client.credentials.get_token()
            assert token
            await type_line(pilot, "Nothing secret in this line.")
            session = app.session
            assert session is not None
            await wait_until(pilot, lambda: any(i.state in ("sent", "heard") for i in session.ledger.items), "say")
            screen_text = app.export_screenshot()
            log_entries = " ".join(text for _, text in app.call_screen.events.entries)
            record = session.recorder.path
            assert record is not None
            await pilot.press("f8")
            await wait_until(pilot, lambda: session.phase == "ended", "the call to end")
            await app.action_quit()
            await wait_until(pilot, lambda: not app.is_running, "exit")
    record_text = record.read_text(encoding="utf-8")
    log_text = (tmp_path / "app.log").read_text(encoding="utf-8")
    assert "login" in log_text.lower() or "POST /auth/login" in log_entries  # the login really happened
    for where, text in {
        "screen": screen_text,
        "event log": log_entries,
        "record": record_text,
        "log file": log_text,
    }.items():
        assert PASSWORD not in text, f"password in the {where}"
        assert token not in text, f"token in the {where}"
    assert os.environ["VTUI_TEST_PW"] == PASSWORD
