"""Reads the service's settings from the environment (the only module that looks at os.environ)."""

from __future__ import annotations

import dataclasses
import json
import os
import pwd
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_API_URL = "https://api.github.com"
# Never handed on: children inherit environments (git commits with ours); repository code runs there.
# UPGRADE_DEPS_DB too: a PostgreSQL URL may carry the database's password.
SECRETS = (
    "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET", "UPGRADE_DEPS_STATUS_TOKEN",
    "UPGRADE_DEPS_DB",
)  # fmt: skip
DEFAULT_DB = "upgrade-deps.sqlite3"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
DEFAULT_LEASE = 30.0  # seconds a worker's claim on a running job lasts unless renewed (PostgreSQL)
# The operator's explicit choice to run repository code where no sandbox works; the name says the risk.
UNSAFE_UNSANDBOXED = "UPGRADE_DEPS_UNSAFE_UNSANDBOXED_REPOSITORY_CODE"
HANDOVER_LIMIT = 60_000  # under a pipe's 64 KiB buffer, so writing it never waits for a reader
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
STATUS_TOKEN_MIN = 16  # characters: the status page shows private repositories' names
# prometheus-client's multiprocess mode is chosen by this variable, read when the library is imported.
MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


class SettingsError(Exception):
    """The environment does not describe a usable service; one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    """Everything the service needs from its environment; secrets are hidden from repr."""

    app_id: str
    private_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    db_path: Path = Path(DEFAULT_DB)
    # The PostgreSQL job store's URL; empty for the SQLite file at db_path. It may hold a password.
    db_url: str = field(default="", repr=False)
    workers: int = 2
    lease: float = DEFAULT_LEASE
    uv_timeout: float = 600.0
    # Where worker processes keep their job clones, one locked directory each (bot.service.clone_dirs).
    sandbox_dir: Path = Path()
    # The environment children see (filtered again by bot.tools.proc.child_env before use).
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)
    key_path: str = ""  # where the key was read from: the sandbox must never show that file
    unsafe_unsandboxed: bool = False  # run repository code bare where bubblewrap does not work
    bwrap: str = "bwrap"  # the bubblewrap executable
    # The host git may send the installation token to: the GitHub the app belongs to. A clone URL
    # of any other host (a signed payload can name one) is cloned without the token.
    git_host: str = "github.com"
    log_format: str = "text"  # or "json": one JSON object per line, for log collectors
    log_level: str = "INFO"
    # The status page's token; "" keeps /status off (it names the repositories of private installations).
    status_token: str = field(default="", repr=False)
    # Where the server and its worker processes keep their metric files, summed by /metrics.
    metrics_dir: Path = Path()


def _private_key(environ: Mapping[str, str], problems: list[str]) -> str:
    text = environ.get("GITHUB_PRIVATE_KEY", "")
    path = environ.get("GITHUB_PRIVATE_KEY_PATH", "")
    if text and path:
        problems.append("GITHUB_PRIVATE_KEY and GITHUB_PRIVATE_KEY_PATH are both set; set only one")
        return ""
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            problems.append(f"GITHUB_PRIVATE_KEY_PATH: cannot read {path} ({exc.strerror})")
            return ""
        where = f"GITHUB_PRIVATE_KEY_PATH ({path})"
    elif text:
        where = "GITHUB_PRIVATE_KEY"
    else:
        problems.append(
            "GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH is required (the app's PEM private key)"
        )
        return ""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key  # only `serve` needs it

    try:
        load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError):
        # The key's text is never echoed: only where it came from.
        problems.append(f"{where}: not a PEM private key without passphrase")
        return ""
    return text


def _positive(environ: Mapping[str, str], key: str, default: float, problems: list[str]) -> float:
    raw = environ.get(key)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        problems.append(f"{key}: {raw!r} is not a positive number")
        return default
    return value


def default_root(uid: int) -> Path:
    """Where worker processes keep their job clones unless UPGRADE_DEPS_SANDBOX_DIR says otherwise."""
    return Path(tempfile.gettempdir()) / f"upgrade-deps-{uid}"


def root_problem(root: Path, uid: int) -> str | None:
    """Why `root` cannot hold the clones of this user's workers, or None when it can (or can be made).

    Other users must not be able to swap entries in it: clones hold repository code we run.
    """
    try:
        info = os.lstat(root)
    except FileNotFoundError:
        return None if root.parent.is_dir() else f"directory {root.parent} does not exist"
    if not stat.S_ISDIR(info.st_mode):
        return f"{root} is not a directory"
    if info.st_uid != uid:
        return f"{root} belongs to another user"
    if info.st_mode & 0o022:
        return f"{root} is writable by other users"
    return None


def database(environ: Mapping[str, str], problems: list[str]) -> tuple[Path, str]:
    """The job store UPGRADE_DEPS_DB names: a SQLite file, or a PostgreSQL URL (then returned second)."""
    raw = environ.get("UPGRADE_DEPS_DB", DEFAULT_DB)
    if not raw.startswith(POSTGRES_SCHEMES):
        db = Path(raw)
        if not db.parent.is_dir():
            problems.append(f"UPGRADE_DEPS_DB: directory {db.parent} does not exist")
        return db, ""
    from psycopg import ProgrammingError, conninfo  # only a PostgreSQL deployment needs it

    try:
        conninfo.conninfo_to_dict(raw)
    except ProgrammingError:
        # Never echoed: the URL may hold a password.
        problems.append("UPGRADE_DEPS_DB: not a valid PostgreSQL URL (postgresql://user@host:port/database)")
    return Path(DEFAULT_DB), raw


def load_settings(environ: Mapping[str, str], *, role: str = "serve") -> Settings:
    """Settings from `environ`; raise SettingsError listing every problem at once.

    A `worker` receives no webhook, so it needs no webhook secret.
    """
    problems: list[str] = []
    app_id = environ.get("GITHUB_APP_ID", "").strip()
    if not app_id:
        problems.append("GITHUB_APP_ID is required (the numeric id on the app's settings page)")
    elif not app_id.isdigit():
        problems.append(f"GITHUB_APP_ID: {app_id!r} is not a number")
    key = _private_key(environ, problems)
    secret = environ.get("GITHUB_WEBHOOK_SECRET", "")
    if not secret and role == "serve":
        problems.append("GITHUB_WEBHOOK_SECRET is required: unsigned webhooks are never accepted")
    api_url = environ.get("GITHUB_API_URL", DEFAULT_API_URL).rstrip("/")
    parts = urlsplit(api_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append(f"GITHUB_API_URL: {api_url!r} is not an http(s) URL")
    db, db_url = database(environ, problems)
    workers = _positive(environ, "UPGRADE_DEPS_WORKERS", 2, problems)
    lease = _positive(environ, "UPGRADE_DEPS_LEASE", DEFAULT_LEASE, problems)
    uv_timeout = _positive(environ, "UPGRADE_DEPS_UV_TIMEOUT", 600.0, problems)
    sandboxes = Path(environ.get("UPGRADE_DEPS_SANDBOX_DIR") or default_root(os.getuid())).absolute()
    if (problem := root_problem(sandboxes, os.getuid())) is not None:
        problems.append(f"UPGRADE_DEPS_SANDBOX_DIR: {problem}")
    unsafe = environ.get(UNSAFE_UNSANDBOXED, "0")
    if unsafe not in ("0", "1"):
        problems.append(f"{UNSAFE_UNSANDBOXED}: {unsafe!r} is neither 1 (run unsandboxed) nor 0")
    log_format, log_level, status_token = _operations(environ, problems)
    metrics_dir = Path(environ.get("UPGRADE_DEPS_METRICS_DIR") or f"{db}-metrics").absolute()
    if problems:
        raise SettingsError(problems)
    return Settings(
        app_id=app_id,
        private_key=key,
        webhook_secret=secret,
        api_url=api_url,
        db_path=db,
        db_url=db_url,
        workers=int(workers),
        lease=lease,
        uv_timeout=uv_timeout,
        sandbox_dir=sandboxes,
        environ={key: value for key, value in environ.items() if key not in SECRETS},
        key_path=environ.get("GITHUB_PRIVATE_KEY_PATH", ""),
        unsafe_unsandboxed=unsafe == "1",
        bwrap=environ.get("UPGRADE_DEPS_BWRAP") or "bwrap",
        git_host=(environ.get("UPGRADE_DEPS_GIT_HOST") or git_host_of(api_url)).lower(),
        log_format=log_format,
        log_level=log_level,
        status_token=status_token,
        metrics_dir=metrics_dir,
    )


def _operations(environ: Mapping[str, str], problems: list[str]) -> tuple[str, str, str]:
    """The log format and level and the status page's token, each checked."""
    log_format = environ.get("UPGRADE_DEPS_LOG_FORMAT", "text").strip().lower()
    if log_format not in LOG_FORMATS:
        problems.append(f"UPGRADE_DEPS_LOG_FORMAT: {log_format!r} is neither text nor json")
    log_level = environ.get("UPGRADE_DEPS_LOG_LEVEL", "INFO").strip().upper()
    if log_level not in LOG_LEVELS:
        problems.append(f"UPGRADE_DEPS_LOG_LEVEL: {log_level!r} is not one of {', '.join(LOG_LEVELS)}")
    token = environ.get("UPGRADE_DEPS_STATUS_TOKEN", "")
    if token and (len(token) < STATUS_TOKEN_MIN or token != token.strip()):
        # The token itself is never echoed.
        problems.append(
            f"UPGRADE_DEPS_STATUS_TOKEN: use at least {STATUS_TOKEN_MIN} characters, without spaces around"
        )
    return log_format, log_level, token


def git_host_of(api_url: str) -> str:
    """Where repositories of the GitHub behind `api_url` are cloned from: github.com for
    api.github.com, the server itself for GitHub Enterprise Server (`https://HOST/api/v3`)."""
    host = urlsplit(api_url).hostname or ""
    return "github.com" if host == "api.github.com" else host


def from_process(role: str = "serve") -> Settings:
    """Settings from this process's environment, whose secrets are then removed from it.

    Anything this process starts with its own environment (the commit step's git) would
    otherwise inherit the app's private key and webhook secret.
    """
    settings = load_settings(os.environ, role=role)
    for key in SECRETS:
        os.environ.pop(key, None)
    return settings


def encode(settings: Settings) -> dict[str, Any]:
    """Settings as JSON-ready data, for the pipes that hand them on (never argv, never an environment)."""
    return {**dataclasses.asdict(settings), "db_path": str(settings.db_path),
            "sandbox_dir": str(settings.sandbox_dir), "metrics_dir": str(settings.metrics_dir)}  # fmt: skip


def decode(data: Mapping[str, Any]) -> Settings:
    paths = {key: Path(data[key]) for key in ("db_path", "sandbox_dir", "metrics_dir")}
    return Settings(**{**data, **paths})


def hand_over(settings: Settings) -> int:
    """A pipe holding the settings (its environment left out), for this process once re-executed.

    The kernel keeps a process's initial environment in /proc/<pid>/environ for its whole life, so
    removing the secrets from os.environ is not enough: `serve` re-executes itself without them.
    """
    data = json.dumps({**encode(settings), "environ": {}}).encode()
    if len(data) > HANDOVER_LIMIT:
        raise SettingsError(
            [f"settings of {len(data)} bytes: too large to hand over (limit {HANDOVER_LIMIT})"]
        )
    read, write = os.pipe()
    with os.fdopen(write, "wb") as pipe:  # within the pipe's buffer: nobody needs to read meanwhile
        pipe.write(data)
    os.set_inheritable(read, True)
    return read


def taken_over(fd: int) -> Settings:
    """The settings the process before the re-exec handed over, with this (secret-free) environment."""
    with os.fdopen(fd, "rb") as pipe:
        data = json.loads(pipe.read())
    return dataclasses.replace(
        decode(data), environ={k: v for k, v in os.environ.items() if k not in SECRETS}
    )


def without_secrets(settings: Settings | None = None) -> dict[str, str]:
    """This process's environment minus the secrets: what `serve` re-executes itself with.

    With `settings`, it also names their metrics directory for prometheus-client, which reads it
    when it is imported: the server and the worker processes it starts then share their counts.
    """
    environ = {key: value for key, value in os.environ.items() if key not in SECRETS}
    if settings is not None:
        environ[MULTIPROCESS_VARIABLE] = str(settings.metrics_dir)
    return environ


def multiprocess_dir(environ: Mapping[str, str]) -> Path | None:
    """The metrics directory prometheus-client was started with in this process, if any."""
    value = environ.get(MULTIPROCESS_VARIABLE)
    return Path(value) if value else None


def database_from_process() -> tuple[Path, str]:
    """The job store of this process's UPGRADE_DEPS_DB (for `upgrade-deps db`, which needs nothing else)."""
    problems: list[str] = []
    found = database(os.environ, problems)
    if problems:
        raise SettingsError(problems)
    return found


def local_environ() -> dict[str, str]:
    """The environment of a command run on a laptop (`run`, `audit`): a copy, filtered later per child."""
    return dict(os.environ)


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    """The cache of distributions and extracted APIs: `$XDG_CACHE_HOME/upgrade-deps` or `~/.cache/…`.

    Without HOME, the home the password database gives this user: never a directory such as /tmp,
    where another local user could have planted the API facts an audit trusts.
    """
    home = environ.get("HOME") or pwd.getpwuid(os.getuid()).pw_dir
    base = environ.get("XDG_CACHE_HOME") or str(Path(home) / ".cache")
    return Path(base) / "upgrade-deps"
