"""`upgrade-deps worker`, `db migrate` and `serve --workers`: what each refuses, what each says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.appkeys import key_pair
from tests.support.measured import measured
from tests.support.postgres import Cluster

ROOT = Path(__file__).resolve().parents[2]


def run(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": os.environ.get("PATH", os.defpath), "HOME": env.get("HOME", "/nonexistent"), **env}
    return subprocess.run([sys.executable, "-m", "bot.cli", *argv], cwd=ROOT, env=measured(environ),
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def app_env(tmp_path: Path, db: str) -> dict[str, str]:
    return {"GITHUB_APP_ID": "4242", "GITHUB_PRIVATE_KEY": key_pair()[0], "UPGRADE_DEPS_DB": db,
            "UPGRADE_DEPS_SANDBOX_DIR": str(tmp_path / "sandboxes"), "HOME": str(tmp_path)}  # fmt: skip


def test_a_worker_needs_postgresql_and_no_webhook_secret(tmp_path: Path) -> None:
    done = run("worker", env=app_env(tmp_path, str(tmp_path / "jobs.sqlite3")))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "upgrade-deps worker: needs the PostgreSQL job store (UPGRADE_DEPS_DB=postgresql://...);"
        " with SQLite, `upgrade-deps serve` runs the jobs itself"
    ]


def test_a_worker_lists_its_settings_problems(tmp_path: Path) -> None:
    env = {**app_env(tmp_path, "postgresql://x@/db"), "GITHUB_APP_ID": ""}
    done = run("worker", "--concurrency", "2", env=env)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "upgrade-deps worker: GITHUB_APP_ID is required (the numeric id on the app's settings page)"
    ]
    assert run("worker", "--concurrency", "0", env=env).returncode == 2  # argparse: at least 1


def test_serve_on_sqlite_refuses_to_run_no_workers(tmp_path: Path) -> None:
    env = {**app_env(tmp_path, str(tmp_path / "jobs.sqlite3")), "GITHUB_WEBHOOK_SECRET": "s"}
    done = run("serve", "--workers", "0", env=env)
    assert done.returncode == 2
    assert "with the SQLite job store, only this server runs jobs" in done.stderr


def test_db_migrate_creates_then_finds_the_schema(postgres: Cluster, tmp_path: Path) -> None:
    url = postgres.create_database()
    first = run("db", "migrate", env={"UPGRADE_DEPS_DB": url})
    assert first.returncode == 0, first.stderr
    assert first.stdout.endswith("migrated from schema version 0 to 1\n")
    again = run("db", "migrate", env={"UPGRADE_DEPS_DB": url})
    assert again.returncode == 0 and again.stdout.endswith("is at schema version 1; nothing to do\n")
    assert "postgres@" not in first.stdout + again.stdout  # never the URL's user or password
    sqlite = run("db", "migrate", env={"UPGRADE_DEPS_DB": str(tmp_path / "jobs.sqlite3")})
    assert sqlite.returncode == 0 and "nothing to migrate" in sqlite.stdout


def test_db_migrate_says_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    done = run("db", "migrate", env={"UPGRADE_DEPS_DB": f"postgresql://nobody@/db?host={tmp_path}"})
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"upgrade-deps db: the job store (postgresql {tmp_path}/db) cannot be reached"
    )
