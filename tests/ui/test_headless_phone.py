"""The console with a `[phone]` table against a sandbox with its SIP side, reached by URL like the service:
the real headless phone registers, answers with real RTP audio both ways, speaks `/caller` lines the
sandbox transcribes, and hangs up (or is hung up on). Real time, so few and short."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ui.conftest import finals, transcript_text, type_line, wait_until, write_config
from tui.config import quick_probe
from tui.options import ConsoleOptions
from tui.runtime import ConsoleRuntime
from tui.sandbox import EmbeddedSandbox, SandboxSettings
from tui.sandbox.settings import SEED_PASSWORDS
from tui.ui.app import VoipbinApp

pytestmark = pytest.mark.timeout(90)

EXT = "quickstart-phone"


@pytest.fixture
async def sip_sandbox() -> AsyncIterator[EmbeddedSandbox]:
    async with EmbeddedSandbox(SandboxSettings(sip=True, random_seed=5)) as sandbox:
        yield sandbox


async def console_app(sandbox: EmbeddedSandbox, tmp_path: Path, **phone: Any) -> VoipbinApp:
    async with httpx.AsyncClient(base_url=sandbox.api_url, params={"accesskey": sandbox.accesskey}) as api:
        found = [e for e in (await api.get("/extensions")).json()["result"] if e["extension"] == EXT]
    domain = found[0]["domain_name"]
    config = write_config(
        tmp_path / "config.toml",
        {
            "session": {"record_dir": str(tmp_path / "records"), "export_dir": str(tmp_path / "exports")},
            "log": {"file": str(tmp_path / "console.log"), "level": "DEBUG"},
            "dial": {
                "destination": EXT,
                "destination_type": "extension",
                "greeting": "Hello. This is the test.",
                "sleep_ms": 60_000,
            },
            "phone": {
                "extension": EXT,
                "domain": domain,
                "password": SEED_PASSWORDS[EXT],
                "registrar": f"127.0.0.1:{sandbox.sip_port}",
                "transport": "tcp",
                "answer_delay": 0.2,
                "record": False,
                **phone,
            },
        },
    )
    # The sandbox reached as a user reaches a standalone one: by URL and accesskey, like the real service.
    top = f'use_sandbox = "never"\napi_url = "{sandbox.api_url}"\naccesskey = "{sandbox.accesskey}"\n\n'
    config.write_text(top + config.read_text(), encoding="utf-8")
    options = ConsoleOptions(config=str(config), dial=True)
    return VoipbinApp(ConsoleRuntime(options, quick_probe(options.config)))


async def test_phone_keys_caller_line_and_the_phone_hangs_up(sip_sandbox: EmbeddedSandbox, tmp_path: Path) -> None:
    app = await console_app(sip_sandbox, tmp_path, answer="manual")
    async with app.run_test(size=(140, 40)) as pilot:
        panel = app.call_screen.phone
        await wait_until(pilot, lambda: "registered over TCP" in panel.state_text, "the phone to register", 20)
        assert app.call_screen.phone.display, "the phone panel shows on the service too"
        phone = app.runtime.headless_phone
        assert phone is not None
        await wait_until(pilot, lambda: phone.status.state == "ringing", "the phone to ring", 15)
        await pilot.press("f9")  # the phone key: answer
        await wait_until(
            pilot,
            lambda: (
                app.session is not None and app.session.call is not None and app.session.call.status == "progressing"
            ),
            "the call to be answered",
            15,
        )
        # Real RTP both ways, counted by the phone and shown in its panel; the greeting is heard.
        await wait_until(pilot, lambda: phone.status.rx_audio_s > 1.0, "audio at the phone", 10)
        await wait_until(pilot, lambda: "audio in" in panel.state_text, "the audio figures on screen")
        await wait_until(
            pilot, lambda: any("phone heard speech" in t for t in finals(app, "phone")), "the phone's heard line", 15
        )
        assert "pho " in transcript_text(app) or " pho" in transcript_text(app)

        # /caller: the phone speaks (TTS through its RTP); the sandbox hears a speech segment, never words.
        await type_line(pilot, "/caller I would like a table for two.")
        await wait_until(
            pilot, lambda: "I would like a table for two." in panel.state_text, "the phone's said line", 10
        )
        await wait_until(pilot, lambda: phone.status.tx_speech_s > 0.5, "the phone's speech going out", 10)
        await wait_until(pilot, lambda: any("[speech" in t for t in finals(app, "in")), "the in segment", 20)

        await pilot.press("f11")  # the phone key: the phone hangs up
        await wait_until(pilot, lambda: app.session is not None and app.session.phase == "ended", "the call to end", 10)
        assert app.session is not None
        assert app.session.call is not None
        assert app.session.call.hangup_by == "remote"
        await wait_until(pilot, lambda: "hung up by local" in panel.state_text, "the phone's side of it")
    assert phone.status.state == "stopped"
    assert SEED_PASSWORDS[EXT] not in (tmp_path / "console.log").read_text()


async def test_the_console_hangs_up_on_the_phone(sip_sandbox: EmbeddedSandbox, tmp_path: Path) -> None:
    app = await console_app(sip_sandbox, tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: app.started, "start-up", 20)
        phone = app.runtime.headless_phone
        assert phone is not None
        await wait_until(pilot, lambda: phone.status.state == "in_call", "the phone to answer by itself", 20)
        await wait_until(pilot, lambda: phone.status.rx_audio_s > 0.5, "audio at the phone", 10)
        await type_line(pilot, "/hangup")
        await wait_until(pilot, lambda: phone.status.last_hangup == "hung up by remote", "the BYE at the phone", 10)
        session = app.session
        assert session is not None
        # The BYE can reach the phone before VoIPBIN's hangup event reaches the console.
        await wait_until(pilot, lambda: session.phase == "ended", "the call to end on screen", 10)
