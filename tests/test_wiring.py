"""Settings → sandbox or service → account → call session, as every driver gets them (tui.wiring)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.config import load_settings
from tui.options import decide_mode
from tui.wiring import dial_request, new_call_session, open_target, speaking_options, target_mode


@pytest.mark.parametrize(
    ("use_sandbox", "credentials", "force", "mode"),
    [
        ("auto", False, False, "sandbox"),
        ("auto", True, False, "service"),
        ("always", True, False, "sandbox"),
        ("never", False, False, "service"),
        ("never", True, True, "sandbox"),
    ],
)
def test_one_rule_decides_sandbox_or_service(use_sandbox: str, credentials: bool, force: bool, mode: str) -> None:
    assert decide_mode(use_sandbox, credentials, force_sandbox=force) == mode


async def test_open_target_on_the_sandbox_gives_an_account_a_control_client_and_sessions(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[sandbox]\nspeed = 20\n[session]\nrecord_dir = "' + str(tmp_path / "rec") + '"\n')
    settings, _ = load_settings(cfg)
    assert target_mode(settings) == "sandbox"
    opened: list[object] = []
    target = await open_target(settings, opened=opened.append)
    try:
        assert opened == [target]
        assert target.mode == "sandbox"
        assert target.sandbox is not None
        assert target.control is not None
        assert target.api_url == target.sandbox.api_url
        assert target.account.customer is not None, "logged in"
        assert target.sandbox.accesskey in target.secrets()
        reply = await target.control.faults(latency_ms=0)
        assert "faults" in reply
        session = new_call_session(settings, target.account, tmp_path / "unused", call_hint="x")
        assert session.recorder.path is not None
        assert session.recorder.path.parent == tmp_path / "rec"
        assert dial_request(settings).destination == "quickstart-phone"
        assert speaking_options(settings, provider="gcp").provider == "gcp"
        await session.close()
    finally:
        await target.close()
    assert target.closed


async def test_the_service_without_credentials_is_refused_before_anything_opens(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('use_sandbox = "never"\n')
    settings, _ = load_settings(cfg)
    with pytest.raises(RuntimeError, match="no credentials are set"):
        await open_target(settings)
