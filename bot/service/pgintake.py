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
    A batch costs a fixed handful of round trips, however many deliveries it holds.
    """
    keys = sorted({job.coalesce for job in jobs if job.coalesce is not None})
    with db.transaction():
        db.run(
            "SELECT pg_advisory_xact_lock(?, hashtext(k)) FROM unnest(?::text[]) AS k ORDER BY k",
            (COALESCE_LOCKS, keys),
        )
        rows = db.all(
            "INSERT INTO jobs (delivery, subject, kind, coalesce_key, spec, created, updated)"
            " SELECT d, s, k, c, p, t.now, t.now"
            " FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[])"
            f" WITH ORDINALITY AS n (d, s, k, c, p, o), ({CLOCK} AS now) AS t ORDER BY o"
            " ON CONFLICT (delivery) DO NOTHING RETURNING id, delivery",
            ([j.delivery for j in jobs], [j.subject for j in jobs], [j.kind for j in jobs],
             [j.coalesce for j in jobs], [j.spec for j in jobs]),
        )  # fmt: skip
        created = {str(delivery): int(job_id) for job_id, delivery in rows}
        if created and keys:
            db.run(
                "UPDATE jobs SET state='superseded', updated=EXTRACT(EPOCH FROM clock_timestamp())::float8,"
                " error='superseded by delivery ' || n.delivery"
                " FROM (SELECT DISTINCT ON (coalesce_key) coalesce_key, id, delivery FROM jobs"
                "  WHERE id = ANY(?::bigint[]) AND coalesce_key IS NOT NULL"
                "  ORDER BY coalesce_key, id DESC) AS n"
                " WHERE jobs.coalesce_key = n.coalesce_key AND jobs.state = 'queued' AND jobs.id < n.id",
                (list(created.values()),),
            )
        if created:
            db.run("SELECT pg_notify(?, '')", (CHANNEL,))  # delivered on commit
    ids: list[int | None] = []
    for job in jobs:  # a delivery twice in one batch: the first is the job, the second a redelivery
        ids.append(created.pop(job.delivery, None))
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
