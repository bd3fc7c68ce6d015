"""Settings: documented, validated loudly, secrets masked."""

import re
import subprocess
from pathlib import Path

import pytest

from tocsin.settings import ConfigError, Settings, load_settings
from tocsin.wiring import build_runtime

DOC = Path(__file__).parent.parent / "docs" / "configuration.md"


def test_every_setting_is_documented_and_every_documented_setting_exists() -> None:
    documented = set(re.findall(r"^\| `TOCSIN_([A-Z_]+)`", DOC.read_text(), re.M))
    fields = {name.upper() for name in Settings.model_fields}
    assert fields - documented == set(), "settings missing from docs/configuration.md"
    assert documented - fields == set(), "docs/configuration.md lists unknown settings"


def test_invalid_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_PORT", "99999")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "TOCSIN_PORT" in str(info.value)


def test_default_secret_refused_outside_dev() -> None:
    with pytest.raises(ConfigError, match=r"secret_key|SECRET_KEY"):
        load_settings(env="production", secret_key="change-me")
    assert load_settings(env="dev", secret_key="change-me").env == "dev"


def test_toml_file_and_env_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tocsin.toml"
    path.write_text('port = 9001\nhost = "0.0.0.0"\n[recovery_watch_minutes]\nSEV1 = 90\n')
    monkeypatch.setenv("TOCSIN_PORT", "9002")
    settings = load_settings(path)
    assert settings.port == 9002  # environment beats the file
    assert settings.host == "0.0.0.0"
    assert settings.recovery_watch_minutes == {"SEV1": 90}


def test_masked_hides_secrets_and_passwords() -> None:
    settings = load_settings(env="dev", secret_key="x" * 32,
                             database_url="postgresql://tocsin:hunter2@db:5432/tocsin")
    shown = settings.masked()
    assert shown["secret_key"] == "********"
    assert "hunter2" not in str(shown)
    assert shown["database_url"].startswith("postgresql+psycopg://tocsin:********@db")


def test_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = load_settings(env="dev", data_dir=tmp_path)
    first = settings.secret()
    assert len(first) > 40 and settings.secret() == first
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600


def test_data_dir_is_ignored_by_git_so_the_secret_key_is_never_committed(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    subprocess.run(["git", "init", "-q", str(checkout)], check=True)
    settings = load_settings(env="dev", data_dir=checkout / "tocsin-data")
    runtime = build_runtime(settings)
    try:
        settings.secret()
    finally:
        runtime.close()
    untracked = subprocess.run(["git", "-C", str(checkout), "status", "--porcelain",
                                "--untracked-files=all"],
                               check=True, capture_output=True, text=True).stdout
    assert (checkout / "tocsin-data" / "secret.key").exists()
    assert untracked == "", untracked


def test_an_operators_own_gitignore_in_the_data_dir_is_kept(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("secret.key\n")
    load_settings(env="dev", data_dir=tmp_path).secret()
    assert (tmp_path / ".gitignore").read_text() == "secret.key\n"
