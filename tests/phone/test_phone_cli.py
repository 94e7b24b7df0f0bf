"""Bad input to `voipbin-tui phone` gets one clear sentence and no half-started phone; settings load."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.phone.conftest import PASSWORD, start_phone
from tui.config import example_toml, load_settings
from tui.phone.engine import PhoneAccount, RegistrationFailed
from tui.phone.runner import registration_message

pytestmark = pytest.mark.timeout(60)


def base_args(port: int = 5060) -> list[str]:
    return ["--extension", "2000", "--domain", "sandbox.local", "--registrar", f"127.0.0.1:{port}"]


async def test_extension_and_domain_are_required(tmp_path: Path) -> None:
    phone = await start_phone([], tmp_path)
    code, err = await phone.finish()
    assert code == 2
    assert phone.lines == []
    assert "give the extension and its domain" in err


async def test_missing_password_is_named(tmp_path: Path) -> None:
    phone = await start_phone(base_args(), tmp_path, {"PHONE_TEST_PW": ""})
    code, err = await phone.finish()
    assert code == 2
    assert "no password for extension 2000: $PHONE_TEST_PW is empty or unset" in err


async def test_text_lines_need_the_tts_extra(tmp_path: Path) -> None:
    # A stand-in package that is not there: what a user without `voipbin-tui[phone-tts]` has.
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "espeakng_loader.py").write_text("raise ImportError('not installed')\n")
    phone = await start_phone([*base_args(), "--say", "hello there"], tmp_path, {"PYTHONPATH": str(shadow)})
    code, err = await phone.finish()
    assert code == 2
    assert phone.lines == []
    assert "line 1 is text" in err
    assert "voipbin-tui[phone-tts]" in err
    assert "GPL-3.0" in err


async def test_a_bad_wav_line_is_refused_before_registering(tmp_path: Path) -> None:
    phone = await start_phone([*base_args(), "--say", f"@{tmp_path / 'missing.wav'}"], tmp_path)
    code, err = await phone.finish()
    assert code == 2
    assert phone.lines == []
    assert "line 1:" in err
    assert "missing.wav" in err


async def test_a_registrar_that_is_not_there(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the phone starts: nothing listens there
    phone = await start_phone([*base_args(port), "--transport", "tcp"], tmp_path)
    code, err = await phone.finish(timeout=30)
    assert code == 1
    error = phone.of("error")[0]
    assert error["stage"] == "register"
    assert "extension '2000'" in error["message"]
    assert PASSWORD not in "".join(phone.raw) + err


def test_registration_messages() -> None:
    account = PhoneAccount("2000", "example.net", "pw", transport="tls")
    assert "wrong password for extension '2000' at 'example.net' over TLS" in registration_message(
        account, RegistrationFailed("401", 401)
    )
    assert "unknown extension" in registration_message(account, RegistrationFailed("404", 404))
    assert "403 Forbidden" in registration_message(account, RegistrationFailed("403", 403))
    assert "registrar address" in registration_message(account, RegistrationFailed("timeout", None))
    assert "pw" not in repr(account)


def test_phone_table_loads_with_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[phone]\nextension = "2000"\ndomain = "d.example"\ntransport = "tls"\nlines = ["hi", "@a.wav"]\n')
    monkeypatch.setenv("VOIPBIN_PHONE__PASSWORD", "env-secret-pw")
    settings, _ = load_settings(cfg, overrides={"phone.transport": "udp"})
    phone = settings.phone
    assert (phone.extension, phone.domain, phone.transport, phone.lines) == (
        "2000",
        "d.example",
        "udp",
        ["hi", "@a.wav"],
    )
    assert phone.password is not None
    assert "env-secret-pw" in settings.secrets()
    assert "env-secret-pw" not in repr(settings)
    assert "[phone]" in example_toml()


def test_phone_table_rejects_unknown_keys(tmp_path: Path) -> None:
    from tui.config import ConfigError

    cfg = tmp_path / "c.toml"
    cfg.write_text('[phone]\nextention = "2000"\n')
    with pytest.raises(ConfigError, match="extention"):
        load_settings(cfg)
