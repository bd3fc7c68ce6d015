"""Secrets from files (`TOCSIN_<NAME>_FILE`), as container platforms mount them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tocsin.settings import ConfigError, load_settings


def test_a_secret_comes_from_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "client_secret"
    secret.write_text("s3cret-from-a-file\n")
    db = tmp_path / "db_url"
    db.write_text(f"sqlite:///{tmp_path}/x.db")
    monkeypatch.setenv("TOCSIN_SSO_CLIENT_SECRET_FILE", str(secret))
    monkeypatch.setenv("TOCSIN_DATABASE_URL_FILE", str(db))
    settings = load_settings(env="dev", data_dir=tmp_path)
    assert settings.sso_client_secret is not None
    assert settings.sso_client_secret.get_secret_value() == "s3cret-from-a-file"
    assert settings.database_url == f"sqlite:///{tmp_path}/x.db"
    assert "s3cret" not in str(settings.masked())


def test_the_variable_itself_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "s").write_text("from-the-file")
    monkeypatch.setenv("TOCSIN_SSO_CLIENT_SECRET_FILE", str(tmp_path / "s"))
    monkeypatch.setenv("TOCSIN_SSO_CLIENT_SECRET", "from-the-variable")
    settings = load_settings(env="dev", data_dir=tmp_path)
    assert settings.sso_client_secret is not None
    assert settings.sso_client_secret.get_secret_value() == "from-the-variable"


def test_a_missing_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_SMTP_PASSWORD_FILE", str(tmp_path / "absent"))
    with pytest.raises(ConfigError, match="TOCSIN_SMTP_PASSWORD_FILE: cannot read"):
        load_settings(env="dev", data_dir=tmp_path)
