"""The job store's one interface, which SQLite and PostgreSQL both implement, and the choice between them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.service.inbox import Inbox, NewJob, QueueStats
from bot.service.jobs import Job, JobStore
from bot.service.ledger import Ledger
from bot.settings import Settings


class Deliveries(Protocol):
    """What the webhook server needs: persist deliveries as jobs, and read the queue for /healthz."""

    def add_many(self, jobs: Sequence[NewJob]) -> list[int | None]: ...

    def counts(self) -> dict[str, int]: ...

    def stats(self) -> QueueStats: ...

    def close(self) -> None: ...


class JobQueue(Deliveries, Protocol):
    """What the workers need: claim jobs, finish or retry them, and keep their ledgers.

    `lease` is None where one process owns the store (SQLite); otherwise a claimed job is this
    process's for `lease` seconds at a time, renewed while it runs (`renew`).
    """

    lease: float | None
    owner: str

    def add(
        self, *, delivery: str, subject: str, kind: str, spec: str, coalesce: str | None = None
    ) -> int | None: ...

    def sync(self) -> None: ...

    def recover(self) -> int: ...

    def claim(self, now: float | None = None) -> Job | None: ...

    def finish(self, job_id: int, state: str, error: str | None = None) -> None: ...

    def retry(self, job_id: int, *, delay: float, error: str) -> None: ...

    def release(self, job_id: int) -> None: ...

    def renew(self, job_ids: Sequence[int]) -> set[int]: ...

    def available(self) -> bool: ...

    def next_due(self) -> float | None: ...

    def get(self, job_id: int) -> Job | None: ...

    def jobs(self) -> list[Job]: ...

    def ledger(self, job_id: int) -> Ledger: ...

    def job_for_head(self, head_sha: str) -> Job | None: ...

    def job_for_check_run(self, check_run_id: int) -> Job | None: ...


def open_queue(settings: Settings) -> JobQueue:
    """The workers' job store that UPGRADE_DEPS_DB names."""
    if settings.db_url:
        from bot.service.pgjobs import PgJobStore

        return PgJobStore(settings.db_url, lease=settings.lease)
    return JobStore(settings.db_path)


def open_intake(settings: Settings) -> Deliveries:
    """The webhook server's side of the same store; SQLite's files and tables are made first."""
    if settings.db_url:
        from bot.service.pgintake import PgIntake

        return PgIntake(settings.db_url)
    JobStore(settings.db_path).close()
    return Inbox(settings.db_path)


def prepare(settings: Settings) -> str | None:
    """Bring a PostgreSQL schema up to date at start-up (when safe); a line for the log, or None."""
    if not settings.db_url:
        return None
    from bot.service.pgconn import Database
    from bot.service.pgschema import migrate

    db = Database(settings.db_url)
    try:
        done = migrate(db, at_start=True)
    finally:
        db.close()
    if done.before == done.after:
        return None
    return f"job store ({db.where}) migrated from schema version {done.before} to {done.after}"
