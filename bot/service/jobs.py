"""The SQLite job store: deliveries become jobs once, run one at a time per subject, survive restarts."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.service import inbox
from bot.service import ledger as job_ledger
from bot.service.inbox import NewJob, QueueStats, stats_of
from bot.service.ledger import Ledger, SqliteSql

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    delivery TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    kind TEXT NOT NULL,
    coalesce_key TEXT,
    spec TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    error TEXT
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (state, not_before, id);
CREATE INDEX IF NOT EXISTS jobs_subject ON jobs (subject, state);
CREATE INDEX IF NOT EXISTS jobs_coalesce ON jobs (coalesce_key, state);
"""

# Job states: queued -> running -> done | failed; queued -> superseded (a newer job covers it).
FINAL = ("done", "failed", "superseded")


@dataclass(frozen=True)
class Job:
    """One unit of work as stored; `spec` is the JSON the handler that accepted it wrote."""

    id: int
    delivery: str
    subject: str
    kind: str
    spec: str
    attempts: int
    state: str = "queued"
    error: str | None = None

    @property
    def external_id(self) -> str:
        """Names the job on GitHub (check runs' external_id, hidden reply markers).

        The delivery id makes it unique beyond this job store, whose ids start again at 1 when it
        is recreated; hashed, so whatever a delivery id holds never reaches Markdown.
        """
        digest = hashlib.sha256(self.delivery.encode(errors="replace")).hexdigest()[:12]
        return f"{self.id}-{digest}"


class JobStore:
    """Jobs and their ledgers (ledger.py), in one SQLite file in WAL mode, written by the worker process.

    New deliveries arrive through the inbox beside it (bot.service.inbox), which only the webhook server
    writes; they become jobs here when a worker looks for work, so the two never wait for each other.
    One worker process owns it: jobs have no leases (`lease` is None), and those left running by a
    process that died are queued again when the next one starts (`recover`).
    """

    lease: float | None = None
    owner = "local"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a committed job survives a crash of this process; only an OS crash
        # can lose the last transactions, which GitHub lets an operator redeliver.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        self._db.executescript(job_ledger.SCHEMA)
        self._inbox = inbox.connect(path, writer=False)
        self._sql = SqliteSql(self._db)

    def close(self) -> None:
        self._db.close()
        self._inbox.close()

    def add(
        self, *, delivery: str, subject: str, kind: str, spec: str, coalesce: str | None = None
    ) -> int | None:
        """Persist a job through the inbox; None when this delivery was already recorded (a redelivery)."""
        return self.add_many([NewJob(delivery, subject, kind, spec, coalesce)])[0]

    def add_many(self, jobs: Sequence[NewJob]) -> list[int | None]:
        return inbox.insert(self._inbox, jobs)

    def _take_in(self) -> None:
        """New deliveries in the inbox become jobs (same ids); each supersedes queued jobs of its key.

        Runs inside the caller's write transaction on the job store.
        """
        db = self._db
        last = db.execute("SELECT COALESCE(MAX(id), 0) FROM jobs").fetchone()[0]
        rows = self._inbox.execute(
            f"SELECT {inbox.COLUMNS} FROM deliveries WHERE id > ? ORDER BY id",  # noqa: S608 - constant columns
            (last,),
        ).fetchall()
        now = time.time()
        for job_id, delivery, subject, kind, coalesce, spec, created in rows:
            db.execute(
                "INSERT OR IGNORE INTO jobs"
                " (id, delivery, subject, kind, coalesce_key, spec, created, updated)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, delivery, subject, kind, coalesce, spec, created, now),
            )
            if coalesce is not None:
                db.execute(
                    "UPDATE jobs SET state='superseded', updated=?, error=?"
                    " WHERE coalesce_key=? AND state='queued' AND id<?",
                    (now, f"superseded by delivery {delivery}", coalesce, job_id),
                )
        if rows:
            # The server never checkpoints its inbox; copying its log into the file is done here.
            self._inbox.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _news(self) -> bool:
        last = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM jobs").fetchone()[0]
        return (
            self._inbox.execute("SELECT 1 FROM deliveries WHERE id > ? LIMIT 1", (last,)).fetchone()
            is not None
        )

    def sync(self) -> None:
        """Take in new deliveries now (no write lock taken when there are none)."""
        if not self._news():
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._take_in()
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def recover(self) -> int:
        """Jobs that were running when the process died go back to the queue; returns how many."""
        cursor = self._db.execute(
            "UPDATE jobs SET state='queued', updated=? WHERE state='running'", (time.time(),)
        )
        return cursor.rowcount

    _CLAIMABLE = (
        "SELECT id, delivery, subject, kind, spec, attempts FROM jobs AS j"
        " WHERE state='queued' AND not_before<=?"
        " AND NOT EXISTS (SELECT 1 FROM jobs AS r WHERE r.subject=j.subject AND r.state='running')"
        " ORDER BY id LIMIT 1"
    )

    def claim(self, now: float | None = None) -> Job | None:
        """The oldest due job whose subject has nothing running, marked running; None if none."""
        now = time.time() if now is None else now
        db = self._db
        # Look without the write lock first: most wake-ups find nothing to take.
        if not self._news() and db.execute(self._CLAIMABLE, (now,)).fetchone() is None:
            return None
        db.execute("BEGIN IMMEDIATE")
        try:
            self._take_in()
            row = db.execute(self._CLAIMABLE, (now,)).fetchone()
            if row is not None:
                db.execute(
                    "UPDATE jobs SET state='running', attempts=attempts+1, updated=? WHERE id=?",
                    (now, row[0]),
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if row is None:
            return None
        return Job(row[0], row[1], row[2], row[3], row[4], row[5] + 1, "running")

    def finish(self, job_id: int, state: str, error: str | None = None) -> None:
        if state not in FINAL:
            raise ValueError(f"not a final state: {state}")
        self._db.execute(
            "UPDATE jobs SET state=?, error=?, updated=? WHERE id=?", (state, error, time.time(), job_id)
        )

    def retry(self, job_id: int, *, delay: float, error: str) -> None:
        """Back to the queue, not before `delay` seconds from now."""
        now = time.time()
        self._db.execute(
            "UPDATE jobs SET state='queued', not_before=?, error=?, updated=? WHERE id=?",
            (now + delay, error, now, job_id),
        )

    def release(self, job_id: int) -> None:
        """A job cut short (the process stops): queued again, to run from its ledger."""
        self._db.execute(
            "UPDATE jobs SET state='queued', updated=? WHERE id=? AND state='running'", (time.time(), job_id)
        )

    def renew(self, job_ids: Sequence[int]) -> set[int]:
        """No leases on one machine: every running job stays this process's."""
        return set()

    def available(self) -> bool:
        return True

    def stats(self) -> QueueStats:
        self.sync()
        depth, oldest = self._db.execute(
            "SELECT COUNT(*), MIN(created) FROM jobs WHERE state='queued'"
        ).fetchone()
        return stats_of(int(depth), [oldest])

    def next_due(self) -> float | None:
        """When the earliest queued job becomes due (epoch seconds), or None when the queue is empty."""
        row = self._db.execute("SELECT MIN(not_before) FROM jobs WHERE state='queued'").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def get(self, job_id: int) -> Job | None:
        self.sync()
        row = self._db.execute(
            "SELECT id, delivery, subject, kind, spec, attempts, state, error FROM jobs WHERE id=?", (job_id,)
        ).fetchone()
        return None if row is None else Job(*row)

    def jobs(self) -> list[Job]:
        self.sync()
        rows = self._db.execute(
            "SELECT id, delivery, subject, kind, spec, attempts, state, error FROM jobs ORDER BY id"
        ).fetchall()
        return [Job(*row) for row in rows]

    def counts(self) -> dict[str, int]:
        self.sync()
        return dict(self._db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())

    def ledger(self, job_id: int) -> Ledger:
        """What the job did on GitHub and was about to do, so a re-run after a crash does it once."""
        return Ledger(self._sql, job_id)

    def job_for_head(self, head_sha: str) -> Job | None:
        """The latest job that ran a check on `head_sha` (for a re-run of the whole check suite)."""
        job_id = job_ledger.job_for_head(self._sql, head_sha)
        return None if job_id is None else self.get(job_id)

    def job_for_check_run(self, check_run_id: int) -> Job | None:
        job_id = job_ledger.job_for_check_run(self._sql, check_run_id)
        return None if job_id is None else self.get(job_id)
