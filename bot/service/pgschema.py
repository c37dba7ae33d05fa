"""The PostgreSQL job store's schema and its migrations, applied under an advisory lock."""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import StoreError
from bot.service.pgconn import Database

MIGRATE_LOCK = 0x75706464  # pg_advisory_xact_lock key: one process migrates at a time


@dataclass(frozen=True)
class Migration:
    version: int
    what: str
    sql: str
    # Safe while older versions of the service still run (only adds): start-up may apply it.
    at_start: bool = True


MIGRATIONS = (
    Migration(1, "jobs, their ledgers and check runs", """
CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    delivery TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    kind TEXT NOT NULL,
    coalesce_key TEXT,
    spec TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before DOUBLE PRECISION NOT NULL DEFAULT 0,
    created DOUBLE PRECISION NOT NULL,
    updated DOUBLE PRECISION NOT NULL,
    error TEXT,
    lease_owner TEXT,
    lease_until DOUBLE PRECISION
);
CREATE INDEX jobs_queued ON jobs (id) WHERE state = 'queued';
CREATE INDEX jobs_state ON jobs (state);
CREATE INDEX jobs_subject ON jobs (subject, state);
CREATE INDEX jobs_coalesce ON jobs (coalesce_key) WHERE state = 'queued';
CREATE INDEX jobs_leases ON jobs (lease_until) WHERE state = 'running';
-- One running job per pull request or issue, whichever worker runs it: the database says no to a second.
CREATE UNIQUE INDEX jobs_one_running ON jobs (subject) WHERE state = 'running';
CREATE TABLE ledger (
    seq BIGSERIAL NOT NULL,
    job_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (job_id, kind, key)
);
CREATE INDEX ledger_by_key ON ledger (kind, key);
CREATE TABLE check_runs (
    check_run_id BIGINT PRIMARY KEY,
    job_id BIGINT NOT NULL
);
"""),
)  # fmt: skip
LATEST = MIGRATIONS[-1].version


@dataclass(frozen=True)
class Migrated:
    before: int
    after: int


def migrate(db: Database, *, at_start: bool) -> Migrated:
    """Bring the schema to LATEST in one transaction; any number of processes may call it at once.

    Refused (StoreError) when the database is newer than this code, or when `at_start` and a
    pending migration is not safe while older versions run: `upgrade-deps db migrate` applies those.
    """
    with db.transaction():
        db.run("SELECT pg_advisory_xact_lock(?)", (MIGRATE_LOCK,))
        db.run(
            "CREATE TABLE IF NOT EXISTS upgrade_deps_schema"
            " (version INTEGER PRIMARY KEY, what TEXT NOT NULL, applied TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        row = db.one("SELECT COALESCE(MAX(version), 0) FROM upgrade_deps_schema")
        before = int(row[0]) if row else 0
        if before > LATEST:
            raise StoreError(
                f"the job store ({db.where}) has schema version {before}, newer than this upgrade-deps"
                f" knows ({LATEST}): run the newer version"
            )
        pending = [step for step in MIGRATIONS if step.version > before]
        if at_start and any(not step.at_start for step in pending):
            raise StoreError(
                f"the job store ({db.where}) needs migrations that are not applied at start-up:"
                " run `upgrade-deps db migrate` first"
            )
        for step in pending:
            db.run(step.sql)
            db.run("INSERT INTO upgrade_deps_schema (version, what) VALUES (?, ?)", (step.version, step.what))
    return Migrated(before, LATEST if pending else before)
