"""Settings from an environment mapping: every problem named, secrets never echoed."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from bot.settings import SettingsError, default_cache_dir, load_settings
from tests.support.appkeys import key_pair


def _environ(tmp_path: Path) -> dict[str, str]:
    return {"GITHUB_APP_ID": "12", "GITHUB_PRIVATE_KEY": key_pair()[0], "GITHUB_WEBHOOK_SECRET": "s",
            "UPGRADE_DEPS_DB": str(tmp_path / "db.sqlite3")}  # fmt: skip


def test_valid_environment(tmp_path: Path) -> None:
    env = {"GITHUB_APP_ID": "12", "GITHUB_PRIVATE_KEY": key_pair()[0], "GITHUB_WEBHOOK_SECRET": "s",
           "UPGRADE_DEPS_DB": str(tmp_path / "db.sqlite3")}  # fmt: skip
    settings = load_settings(env)
    assert settings.app_id == "12" and settings.api_url == "https://api.github.com"
    assert settings.db_path == tmp_path / "db.sqlite3" and settings.workers == 2
    assert "PRIVATE" not in repr(settings) and "'s'" not in repr(settings)
    # What the service hands to children (uv, git, repository commands) holds no secret.
    assert "GITHUB_PRIVATE_KEY" not in settings.environ and "GITHUB_WEBHOOK_SECRET" not in settings.environ
    assert settings.environ["GITHUB_APP_ID"] == "12"


def test_key_from_path_and_enterprise_url(tmp_path: Path) -> None:
    key = tmp_path / "app.pem"
    key.write_text(key_pair()[0])
    env = {"GITHUB_APP_ID": "12", "GITHUB_PRIVATE_KEY_PATH": str(key), "GITHUB_WEBHOOK_SECRET": "s",
           "GITHUB_API_URL": "https://ghe.example/api/v3/",
           "UPGRADE_DEPS_DB": str(tmp_path / "x")}  # fmt: skip
    settings = load_settings(env)
    assert settings.api_url == "https://ghe.example/api/v3" and settings.private_key.startswith("-----BEGIN")


def test_every_problem_is_listed_once(tmp_path: Path) -> None:
    env = {"GITHUB_APP_ID": "abc", "GITHUB_PRIVATE_KEY_PATH": str(tmp_path / "none.pem"),
           "UPGRADE_DEPS_WORKERS": "0"}  # fmt: skip
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    assert caught.value.problems == [
        "GITHUB_APP_ID: 'abc' is not a number",
        f"GITHUB_PRIVATE_KEY_PATH: cannot read {tmp_path / 'none.pem'} (No such file or directory)",
        "GITHUB_WEBHOOK_SECRET is required: unsigned webhooks are never accepted",
        "UPGRADE_DEPS_WORKERS: '0' is not a positive number",
    ]


def test_both_key_sources_is_ambiguous() -> None:
    env = {"GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": "x", "GITHUB_PRIVATE_KEY_PATH": "y",
           "GITHUB_WEBHOOK_SECRET": "s"}  # fmt: skip
    with pytest.raises(SettingsError, match="both set; set only one"):
        load_settings(env)


@pytest.mark.parametrize(
    ("api_url", "host"),
    [("https://api.github.com", "github.com"), ("https://ghe.example.com/api/v3", "ghe.example.com")],
)
def test_the_git_host_follows_the_api(tmp_path: Path, api_url: str, host: str) -> None:
    settings = load_settings({**_environ(tmp_path), "GITHUB_API_URL": api_url})
    assert settings.git_host == host
    assert (
        load_settings({**_environ(tmp_path), "UPGRADE_DEPS_GIT_HOST": "Git.Example"}).git_host
        == "git.example"
    )


def test_a_postgresql_url_selects_that_store_and_stays_out_of_every_child(tmp_path: Path) -> None:
    url = "postgresql://bot:hunter2@db.internal:5432/upgrade_deps"
    settings = load_settings({**_environ(tmp_path), "UPGRADE_DEPS_DB": url, "UPGRADE_DEPS_LEASE": "12"})
    assert settings.db_url == url and settings.lease == 12.0
    assert "hunter2" not in repr(settings)
    assert "UPGRADE_DEPS_DB" not in settings.environ  # a URL may hold the database's password
    assert load_settings(_environ(tmp_path)).db_url == ""  # a path is the SQLite file


def test_a_malformed_postgresql_url_is_named_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({**_environ(tmp_path), "UPGRADE_DEPS_DB": "postgresql://bot:hunter2@h/db?sslmode"})
    assert caught.value.problems == [
        "UPGRADE_DEPS_DB: not a valid PostgreSQL URL (postgresql://user@host:port/database)"
    ]


def test_a_worker_needs_no_webhook_secret(tmp_path: Path) -> None:
    env = {key: value for key, value in _environ(tmp_path).items() if key != "GITHUB_WEBHOOK_SECRET"}
    assert load_settings(env, role="worker").webhook_secret == ""
    with pytest.raises(SettingsError, match="GITHUB_WEBHOOK_SECRET is required"):
        load_settings(env)


def test_operations_settings(tmp_path: Path) -> None:
    settings = load_settings(_environ(tmp_path))
    assert (settings.log_format, settings.log_level, settings.status_token) == ("text", "INFO", "")
    assert settings.metrics_dir == (tmp_path / "db.sqlite3-metrics").absolute()
    token = "a-status-token-of-length"
    env = {**_environ(tmp_path), "UPGRADE_DEPS_LOG_FORMAT": "JSON", "UPGRADE_DEPS_LOG_LEVEL": "debug",
           "UPGRADE_DEPS_STATUS_TOKEN": token, "UPGRADE_DEPS_METRICS_DIR": str(tmp_path / "m")}  # fmt: skip
    settings = load_settings(env)
    assert (settings.log_format, settings.log_level, settings.metrics_dir) == (
        "json",
        "DEBUG",
        tmp_path / "m",
    )
    assert settings.status_token == token and token not in repr(settings)
    assert "UPGRADE_DEPS_STATUS_TOKEN" not in settings.environ  # never handed to a child process


def test_bad_operations_settings_are_named_without_the_token(tmp_path: Path) -> None:
    env = {**_environ(tmp_path), "UPGRADE_DEPS_LOG_FORMAT": "xml", "UPGRADE_DEPS_LOG_LEVEL": "LOUD",
           "UPGRADE_DEPS_STATUS_TOKEN": "short-secret"}  # fmt: skip
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    assert caught.value.problems == [
        "UPGRADE_DEPS_LOG_FORMAT: 'xml' is neither text nor json",
        "UPGRADE_DEPS_LOG_LEVEL: 'LOUD' is not one of DEBUG, INFO, WARNING, ERROR",
        "UPGRADE_DEPS_STATUS_TOKEN: use at least 16 characters, without spaces around",
    ]
    assert "short-secret" not in str(caught.value)


def test_the_cache_follows_xdg_then_home_and_never_falls_back_to_tmp(tmp_path: Path) -> None:
    assert default_cache_dir({"XDG_CACHE_HOME": str(tmp_path), "HOME": "/h"}) == tmp_path / "upgrade-deps"
    assert default_cache_dir({"HOME": str(tmp_path)}) == tmp_path / ".cache" / "upgrade-deps"
    # No HOME (a service started with a bare environment): the user's own home, not a shared /tmp.
    home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    assert default_cache_dir({}) == home / ".cache" / "upgrade-deps"
