"""Deliveries into the PostgreSQL job store: one job per delivery id, coalesced, from any replica."""

from __future__ import annotations

from collections.abc import Sequence

from bot.service.inbox import NewJob, QueueStats
from bot.service.pgconn import CHANNEL, Database

CLOCK = (
    "SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8"  # the database's clock, the same for every machine
)


def clock(db: Database) -> float:
    row = db.one(CLOCK)
    assert row is not None  # noqa: S101 - a SELECT without FROM has one row
    return float(row[0])


# One statement for a whole batch. Deliveries already stored (or twice in the batch) are left out,
# the others inserted; a fresh job covered by a later fresh one of its key in the same batch is
# stored superseded, and queued jobs of earlier batches are superseded by the newest of their key.
# The arrays are sent in binary (%b): as text, psycopg escapes every quote of every job spec with a
# regular expression, which took half of the client's CPU for the statement.
INSERT = f"""
WITH given AS (
    SELECT DISTINCT ON (d) d, s, k, c, p, o
    FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::text[]) WITH ORDINALITY AS g (d, s, k, c, p, o)
    ORDER BY d, o
), fresh AS (
    SELECT given.*, last_value(d) OVER (PARTITION BY c ORDER BY o
                                        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS newest
    FROM given WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.delivery = given.d)
), clock AS ({CLOCK} AS now),
new AS (
    INSERT INTO jobs (delivery, subject, kind, coalesce_key, spec, created, updated, state, error)
    SELECT d, s, k, c, p, clock.now, clock.now,
           CASE WHEN c IS NOT NULL AND newest <> d THEN 'superseded' ELSE 'queued' END,
           CASE WHEN c IS NOT NULL AND newest <> d THEN 'superseded by delivery ' || newest END
    FROM fresh, clock ORDER BY o
    ON CONFLICT (delivery) DO NOTHING
    RETURNING id, delivery, coalesce_key
), newest AS (
    SELECT DISTINCT ON (coalesce_key) coalesce_key, id, delivery FROM new
    WHERE coalesce_key IS NOT NULL ORDER BY coalesce_key, id DESC
), superseded AS (
    UPDATE jobs SET state = 'superseded', updated = clock.now, error = 'superseded by delivery ' || newest.delivery
    FROM newest, clock
    WHERE jobs.coalesce_key = newest.coalesce_key AND jobs.state = 'queued' AND jobs.id < newest.id
)
SELECT id, delivery, pg_notify('{CHANNEL}', '') FROM new
"""  # noqa: E501, S608 - SQL reads best whole; the one formatted part is the constant CLOCK


def insert(db: Database, jobs: Sequence[NewJob]) -> list[int | None]:
    """Store `jobs` in one statement; each one's id, or None when its delivery was already in.

    Each new job supersedes the queued jobs of its coalesce key that committed before it. Two
    replicas storing deliveries of one pull request at the same instant do not see each other's:
    both stay queued, and the claim that reaches the older one supersedes it (bot.service.pgjobs).
    One statement in autocommit is the cheapest a batch can be: about a quarter of the client's CPU
    of the same work as a transaction of several statements, even pipelined.
    """
    columns = ([j.delivery for j in jobs], [j.subject for j in jobs], [j.kind for j in jobs],
               [j.coalesce for j in jobs], [j.spec for j in jobs])  # fmt: skip
    rows = db.all(INSERT, columns)
    created = {str(delivery): int(job_id) for job_id, delivery, _ in rows}
    # A delivery twice in one batch: the first is the job, the second a redelivery.
    return [created.pop(job.delivery, None) for job in jobs]


def counts(db: Database) -> dict[str, int]:
    return {str(state): int(n) for state, n in db.all("SELECT state, COUNT(*) FROM jobs GROUP BY state")}


def stats(db: Database) -> QueueStats:
    row = db.one(
        "SELECT COUNT(*), EXTRACT(EPOCH FROM clock_timestamp())::float8 - MIN(created)"
        " FROM jobs WHERE state='queued'"
    )
    assert row is not None  # noqa: S101 - an aggregate without GROUP BY has one row
    return QueueStats(int(row[0]), None if row[1] is None else max(0.0, float(row[1])))


# The writer's planner settings, for INSERT alone. A prepared statement's generic plan is made for
# the table as it was (empty, at first) and kept until the next autoanalyze, so its scans grew with
# the table; and a bitmap scan never marks an index entry of a superseded job's old row version
# dead (a plain index scan does), so each batch revisited every job its key superseded until the
# next vacuum. With both, PostgreSQL's CPU per stored delivery rose from 0.3 to 4 ms over 30,000
# deliveries of one pull request; without them it stays at 0.27 ms (benchmarks.scale).
WRITER_SETTINGS = "-c plan_cache_mode=force_custom_plan -c enable_bitmapscan=off"


class PgIntake:
    """The webhook server's side with PostgreSQL: any number of replicas add deliveries to one queue.

    Its calls block on the network, so the server makes them on threads (`threaded`): writes on one
    connection, one batch at a time, and reads for /healthz on another.
    """

    threaded = True

    def __init__(self, url: str) -> None:
        self._writer = Database(url, settings=WRITER_SETTINGS)
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
