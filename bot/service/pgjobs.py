"""The PostgreSQL job store: many workers on many machines claim jobs under leases, one per subject."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Sequence

from bot.service import ledger as job_ledger
from bot.service import pgintake
from bot.service.inbox import NewJob, QueueStats
from bot.service.jobs import FINAL, Job
from bot.service.ledger import Ledger
from bot.service.pgconn import Database

log = logging.getLogger("upgrade-deps.store")
SUBJECT_LOCKS = 0x75640001  # pg_try_advisory_xact_lock(namespace, hashtext(subject)) while claiming
CANDIDATES = 8  # subjects tried per claim before giving up until the next wake-up
COLUMNS = "id, delivery, subject, kind, spec, attempts, state, error"


def owner_name() -> str:
    """Names this worker process in the jobs it holds: machine and pid (for operators), and a nonce."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class PgJobStore:
    """Jobs and their ledgers in PostgreSQL; every worker process opens its own.

    A claimed job is leased to this process for `lease` seconds and renewed while it runs; a job whose
    lease ran out (its worker was killed, or lost the database for longer) is queued again by the next
    claim anywhere. Finishing, retrying and releasing only apply while the lease is still ours.
    """

    def __init__(self, url: str, *, lease: float, owner: str | None = None) -> None:
        # Used on a worker's event loop: a lost connection comes back through available() on a thread.
        self._db = Database(url, background=True)
        self.lease: float | None = lease  # the job store interface's: None where a store leases nothing
        self._lease = lease
        self.owner = owner or owner_name()

    def close(self) -> None:
        self._db.close()

    def available(self) -> bool:
        return self._db.available()

    def add(
        self, *, delivery: str, subject: str, kind: str, spec: str, coalesce: str | None = None
    ) -> int | None:
        return self.add_many([NewJob(delivery, subject, kind, spec, coalesce)])[0]

    def add_many(self, jobs: Sequence[NewJob]) -> list[int | None]:
        return pgintake.insert(self._db, jobs)

    def sync(self) -> None:
        """Deliveries are jobs as soon as a replica commits them: nothing to take in."""

    def recover(self) -> int:
        """Jobs whose lease ran out go back to the queue (a claim does this too); returns how many."""
        with self._db.transaction():
            return self._expire(pgintake.clock(self._db))

    def _expire(self, now: float) -> int:
        expired = self._db.all(
            "UPDATE jobs SET state='queued', lease_owner=NULL, lease_until=NULL, updated=?, error=?"
            " WHERE state='running' AND lease_until<? RETURNING id, lease_owner",
            (now, "its worker stopped renewing its lease", now),
        )
        for job_id, _ in expired:
            log.warning("job %d: its worker's lease ran out; queued again", job_id)
        return len(expired)

    def claim(self, now: float | None = None) -> Job | None:
        """The oldest due job whose subject has nothing running, leased to this process; None if none."""
        db = self._db
        with db.transaction():
            clock = pgintake.clock(db) if now is None else now
            self._expire(clock)
            tried: list[str] = []
            for _ in range(CANDIDATES):
                row = db.one(
                    "SELECT id, subject, coalesce_key FROM jobs AS j WHERE state='queued' AND not_before<=?"
                    " AND NOT (subject = ANY(?::text[]))"
                    " AND NOT EXISTS"
                    " (SELECT 1 FROM jobs AS r WHERE r.subject=j.subject AND r.state='running')"
                    " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
                    (clock, tried),
                )
                if row is None:
                    return None
                job_id, subject, key = int(row[0]), str(row[1]), row[2]
                if key is not None and self._covered(job_id, str(key), clock):
                    continue
                if self._free(subject, job_id, clock):
                    return self._take(job_id, clock)
                tried.append(subject)
        return None

    def _covered(self, job_id: int, key: str, clock: float) -> bool:
        """Supersede `job_id` if a newer job of its coalesce key is queued (two replicas stored them at
        the same instant, so neither superseded the other); whether it was."""
        row = self._db.one(
            "UPDATE jobs SET state='superseded', updated=?, error='superseded by delivery ' || n.delivery"
            " FROM (SELECT delivery FROM jobs WHERE coalesce_key=? AND state='queued' AND id>?"
            "       ORDER BY id DESC LIMIT 1) AS n"
            " WHERE jobs.id=? RETURNING jobs.id",
            (clock, key, job_id, job_id),
        )
        return row is not None

    def _free(self, subject: str, job_id: int, clock: float) -> bool:
        """Whether `subject` can run `job_id` now: no claim of it under way, none running, none older due.

        The subject's lock is taken first, so what other claims committed meanwhile is seen.
        """
        locked = self._db.one("SELECT pg_try_advisory_xact_lock(?, hashtext(?))", (SUBJECT_LOCKS, subject))
        if locked is None or not locked[0]:
            return False
        busy = self._db.one(
            "SELECT 1 FROM jobs WHERE subject=?"
            " AND (state='running' OR (state='queued' AND id<? AND not_before<=?)) LIMIT 1",
            (subject, job_id, clock),
        )
        return busy is None

    def _take(self, job_id: int, clock: float) -> Job:
        row = self._db.one(
            "UPDATE jobs SET state='running', attempts=attempts+1, lease_owner=?, lease_until=?, updated=?"  # noqa: S608 - constant columns
            f" WHERE id=? RETURNING {COLUMNS}",
            (self.owner, clock + self._lease, clock, job_id),
        )
        assert row is not None  # noqa: S101 - the claim holds the row locked in this transaction
        return Job(*row)

    def _mine(self, sql: str, params: Sequence[object], job_id: int) -> None:
        """Change a job this process holds; a job whose lease went to another worker is left to it."""
        changed = self._db.run(f"{sql} WHERE id=? AND state='running' AND lease_owner=?",
                               (*params, job_id, self.owner))  # fmt: skip
        if not changed:
            log.warning("job %d is no longer this worker's (its lease ran out); left as it is", job_id)

    def finish(self, job_id: int, state: str, error: str | None = None) -> None:
        if state not in FINAL:
            raise ValueError(f"not a final state: {state}")
        self._mine("UPDATE jobs SET state=?, error=?, updated=?, lease_owner=NULL, lease_until=NULL",
                   (state, error, time.time()), job_id)  # fmt: skip

    def retry(self, job_id: int, *, delay: float, error: str) -> None:
        """Back to the queue, not before `delay` seconds from now (the database's clock)."""
        now = pgintake.clock(self._db)
        self._mine("UPDATE jobs SET state='queued', not_before=?, error=?, updated=?, lease_owner=NULL,"
                   " lease_until=NULL", (now + delay, error, now), job_id)  # fmt: skip

    def release(self, job_id: int) -> None:
        """A job cut short (this worker stops, or lost the database): queued again for any worker."""
        self._mine("UPDATE jobs SET state='queued', updated=?, lease_owner=NULL, lease_until=NULL",
                   (time.time(),), job_id)  # fmt: skip

    def renew(self, job_ids: Sequence[int]) -> set[int]:
        """Extend the leases of `job_ids`; returns those no longer this process's."""
        if not job_ids:
            return set()
        kept = self._db.all(
            "UPDATE jobs SET lease_until=EXTRACT(EPOCH FROM clock_timestamp())::float8 + ?"
            " WHERE id = ANY(?::bigint[]) AND state='running' AND lease_owner=? RETURNING id",
            (self._lease, list(job_ids), self.owner),
        )
        return set(job_ids) - {int(row[0]) for row in kept}

    def next_due(self) -> float | None:
        """When the earliest queued job becomes due, on this machine's clock; None when none is queued."""
        row = self._db.one(
            "SELECT MIN(not_before) - EXTRACT(EPOCH FROM clock_timestamp())::float8"
            " FROM jobs WHERE state='queued'"
        )
        return None if row is None or row[0] is None else time.time() + float(row[0])

    def get(self, job_id: int) -> Job | None:
        row = self._db.one(f"SELECT {COLUMNS} FROM jobs WHERE id=?", (job_id,))  # noqa: S608 - constant columns
        return None if row is None else Job(*row)

    def jobs(self) -> list[Job]:
        rows = self._db.all(f"SELECT {COLUMNS} FROM jobs ORDER BY id")  # noqa: S608 - constant columns
        return [Job(*row) for row in rows]

    def counts(self) -> dict[str, int]:
        return pgintake.counts(self._db)

    def stats(self) -> QueueStats:
        return pgintake.stats(self._db)

    def ledger(self, job_id: int) -> Ledger:
        return Ledger(self._db, job_id)

    def job_for_head(self, head_sha: str) -> Job | None:
        job_id = job_ledger.job_for_head(self._db, head_sha)
        return None if job_id is None else self.get(job_id)

    def job_for_check_run(self, check_run_id: int) -> Job | None:
        job_id = job_ledger.job_for_check_run(self._db, check_run_id)
        return None if job_id is None else self.get(job_id)
