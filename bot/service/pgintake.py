"""Deliveries into the PostgreSQL job store: one job per delivery id, coalesced, from any replica."""

from __future__ import annotations

from collections.abc import Sequence

from bot.service.inbox import NewJob, QueueStats
from bot.service.pgconn import CHANNEL, Database

CLOCK = (
    "SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8"  # the database's clock, the same for every machine
)
COALESCE_LOCKS = 0x75640002  # pg_advisory_xact_lock(namespace, hashtext(key)): one writer per coalesce key


def clock(db: Database) -> float:
    row = db.one(CLOCK)
    assert row is not None
    return float(row[0])


def insert(db: Database, jobs: Sequence[NewJob]) -> list[int | None]:
    """Store `jobs` in one transaction; each one's id, or None when its delivery was already in.

    Each new job supersedes the queued jobs of its coalesce key. The key's advisory lock makes two
    replicas taking deliveries of one pull request at once do so one after the other (ids in commit
    order), so neither misses the other's queued job; keys are locked in sorted order, never deadlocking.
    """
    ids: list[int | None] = []
    with db.transaction():
        for key in sorted({job.coalesce for job in jobs if job.coalesce is not None}):
            db.run("SELECT pg_advisory_xact_lock(?, hashtext(?))", (COALESCE_LOCKS, key))
        now = clock(db)
        for job in jobs:
            row = db.one(
                "INSERT INTO jobs (delivery, subject, kind, coalesce_key, spec, created, updated)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (delivery) DO NOTHING RETURNING id",
                (job.delivery, job.subject, job.kind, job.coalesce, job.spec, now, now),
            )
            job_id = None if row is None else int(row[0])
            if job_id is not None and job.coalesce is not None:
                db.run(
                    "UPDATE jobs SET state='superseded', updated=?, error=?"
                    " WHERE coalesce_key=? AND state='queued' AND id<?",
                    (now, f"superseded by delivery {job.delivery}", job.coalesce, job_id),
                )
            ids.append(job_id)
        if any(job_id is not None for job_id in ids):
            db.run("SELECT pg_notify(?, '')", (CHANNEL,))  # delivered on commit
    return ids


def counts(db: Database) -> dict[str, int]:
    return {str(state): int(n) for state, n in db.all("SELECT state, COUNT(*) FROM jobs GROUP BY state")}


def stats(db: Database) -> QueueStats:
    row = db.one(
        "SELECT COUNT(*), EXTRACT(EPOCH FROM clock_timestamp())::float8 - MIN(created)"
        " FROM jobs WHERE state='queued'"
    )
    assert row is not None
    return QueueStats(int(row[0]), None if row[1] is None else max(0.0, float(row[1])))


class PgIntake:
    """The webhook server's side with PostgreSQL: any number of replicas add deliveries to one queue.

    Its calls block on the network, so the server makes them on threads (`threaded`): writes on one
    connection, one batch at a time, and reads for /healthz on another.
    """

    threaded = True

    def __init__(self, url: str) -> None:
        self._writer = Database(url)
        self._reader = Database(url)

    def add_many(self, jobs: Sequence[NewJob]) -> list[int | None]:
        return insert(self._writer, jobs)

    def counts(self) -> dict[str, int]:
        return counts(self._reader)

    def stats(self) -> QueueStats:
        return stats(self._reader)

    def close(self) -> None:
        self._writer.close()
        self._reader.close()
