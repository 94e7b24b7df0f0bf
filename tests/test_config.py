from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from tui.cli import main
from tui.config import ConfigError, check_config, config_location, load_settings, quick_probe


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_seed_scenario(tmp_path: Path) -> None:
    settings, location = load_settings()
    assert location.source == "default"
    assert not location.exists
    assert settings.dial.destination == "quickstart-phone"
    assert settings.dial.source == "+15551234567"
    assert settings.dial.sleep_ms == 600_000
    assert settings.speaking.direction == "out"
    assert not settings.has_credentials()


def test_precedence_flags_over_env_over_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write(
        tmp_path / "c.toml", 'api_url = "https://file.example/v1.0"\n[dial]\nlanguage = "ko-KR"\nsleep_ms = 5\n'
    )
    settings, _ = load_settings(cfg)
    assert settings.api_url == "https://file.example/v1.0"
    assert settings.dial.language == "ko-KR"
    monkeypatch.setenv("VOIPBIN_API_URL", "https://env.example/v1.0/")
    monkeypatch.setenv("VOIPBIN_DIAL__LANGUAGE", "ja-JP")
    settings, _ = load_settings(cfg)
    assert settings.api_url == "https://env.example/v1.0"  # trailing slash stripped
    assert settings.dial.language == "ja-JP"
    assert settings.dial.sleep_ms == 5  # untouched file value survives the env overlay
    settings, _ = load_settings(cfg, overrides={"api_url": "https://flag.example/v1.0", "dial.language": None})
    assert settings.api_url == "https://flag.example/v1.0"
    assert settings.dial.language == "ja-JP"


def test_config_file_from_env_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write(tmp_path / "env.toml", "[ui]\nshow_event_log = true\n")
    monkeypatch.setenv("VOIPBIN_TUI_CONFIG", str(cfg))
    assert config_location().source == "env"
    settings, _ = load_settings()
    assert settings.ui.show_event_log is True


def test_profiles_overlay_the_top_level(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "p.toml",
        '[dial]\nlanguage = "en-US"\n'
        '[profiles.prod]\napi_url = "https://api.voipbin.net/v1.0"\naccesskey = "vb_prodkey123"\n'
        '[profiles.prod.dial]\nlanguage = "ko-KR"\n',
    )
    base, _ = load_settings(cfg)
    assert not base.has_credentials()
    prod, _ = load_settings(cfg, profile="prod")
    assert prod.has_credentials()
    assert prod.dial.language == "ko-KR"
    assert prod.profile == "prod"
    with pytest.raises(ConfigError, match="unknown profile 'nope'"):
        load_settings(cfg, profile="nope")


def test_unknown_keys_are_errors_with_their_location(tmp_path: Path) -> None:
    cfg = write(tmp_path / "bad.toml", '[dial]\nlanguag = "en-US"\n[ui]\ntheme = 3\n')
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    text = str(info.value)
    assert "dial.languag: unknown key" in text
    assert "ui.theme" in text


def test_check_reports_problems_in_every_profile(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.toml", "[profiles.a]\nbogus = 1\n[profiles.b.sandbox]\nspeed = -1\n")
    _, problems = check_config(cfg)
    assert any(p.startswith("[profiles.a] bogus") for p in problems)
    assert any(p.startswith("[profiles.b] sandbox.speed") for p in problems)


def test_secrets_never_in_repr(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.toml", 'accesskey = "vb_supersecretkey"\n')
    settings, _ = load_settings(cfg)
    assert "vb_supersecretkey" not in repr(settings)
    assert settings.secrets() == ["vb_supersecretkey"]


def test_password_from_named_env_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write(tmp_path / "c.toml", 'username = "admin@localhost"\npassword_env = "MY_PW"\n')
    settings, _ = load_settings(cfg)
    assert not settings.has_credentials()
    monkeypatch.setenv("MY_PW", "pw")
    settings, _ = load_settings(cfg)
    assert settings.has_credentials()
    assert settings.resolved_password() == "pw"


def test_quick_probe_agrees_with_full_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write(tmp_path / "c.toml", '[profiles.prod]\naccesskey = "vb_x123456"\n')
    assert quick_probe(cfg).sandbox is True
    assert quick_probe(cfg, profile="prod").sandbox is False
    assert quick_probe(cfg, profile="prod", force_sandbox=True).sandbox is True
    monkeypatch.setenv("VOIPBIN_TOKEN", "eyJ.x.y")
    assert quick_probe(cfg).sandbox is False
    for profile in (None, "prod"):
        full, _ = load_settings(cfg, profile=profile)
        assert quick_probe(cfg, profile=profile).sandbox == (not full.has_credentials())


def test_config_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path / "good.toml", "[dial]\nsleep_ms = 1000\n")
    assert main(["config", "path", "--config", str(good)]) == 0
    assert str(good) in capsys.readouterr().out
    assert main(["config", "check", "--config", str(good)]) == 0
    assert "OK" in capsys.readouterr().out
    bad = write(tmp_path / "bad.toml", "[dial]\nsleeep_ms = 1000\n")
    assert main(["config", "check", "--config", str(bad)]) == 1
    assert "dial.sleeep_ms: unknown key" in capsys.readouterr().err
    broken = write(tmp_path / "broken.toml", "[dial\n")
    assert main(["config", "check", "--config", str(broken)]) == 1
    assert "not valid TOML" in capsys.readouterr().err


def test_user_config_dir_is_private(tmp_path: Path) -> None:
    from tui.config import ensure_private_dir, user_config_dir

    path = ensure_private_dir(user_config_dir())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700


def test_example_file_documents_every_key_and_is_current() -> None:
    import tomllib

    from tui.config import Settings, example_toml

    repo_example = Path(__file__).resolve().parent.parent / "config.example.toml"
    assert repo_example.read_text(encoding="utf-8") == example_toml(), (
        "config.example.toml is stale: run `voipbin-tui config example > config.example.toml`"
    )
    text = example_toml()
    for name, field in Settings.model_fields.items():
        if name in ("profiles", "keymap"):
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            for sub in annotation.model_fields:
                assert f"# {sub} = " in text or f"[[{name}.{sub}]]" in text, f"{name}.{sub} undocumented"
        else:
            assert f"# {name} = " in text, f"{name} undocumented"
    # Uncommenting the defaults must give a valid file.
    setting = re.compile(r"^# ([a-z_]+) = (?!…)(.*)$")
    uncommented = "\n".join(
        line[2:] if setting.match(line) else line for line in text.split("[keymap]")[0].splitlines()
    )
    data = tomllib.loads(uncommented)
    data.pop("sandbox", None)  # list-of-table examples are left commented
    Settings(**{k: v for k, v in data.items() if k != "keymap"})


def test_standalone_sandbox_settings_file_then_env_then_flags() -> None:
    from tui.sandbox.standalone import parse_settings

    base = {"speed": 7, "answer_mode": "manual", "ring_delay": 0.5}
    env = {"VOIPBIN_SANDBOX__SPEED": "9"}
    settings = parse_settings(["--answer", "reject"], env, base)
    assert settings.speed == 9
    assert settings.answer_mode == "reject"
    assert settings.ring_delay == 0.5


def test_check_flags_an_unknown_theme_the_console_would_warn_about(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.toml", '[ui]\ntheme = "solarised"\n[profiles.ok.ui]\ntheme = "nord"\n')
    _, problems = check_config(cfg)
    assert any(p.startswith("ui.theme: unknown theme 'solarised'") for p in problems), problems
    assert not any("nord" in p.split("(")[0] for p in problems)
    for good in ("auto", "ansi", "voipbin-dark", "textual-light"):
        _, problems = check_config(write(tmp_path / f"{good}.toml", f'[ui]\ntheme = "{good}"\n'))
        assert problems == [], (good, problems)
