"""The deliveries inbox: a SQLite file only the webhook server writes, so it never waits for the workers."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY,
    delivery TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    kind TEXT NOT NULL,
    coalesce_key TEXT,
    spec TEXT NOT NULL,
    created REAL NOT NULL
);
"""
COLUMNS = "id, delivery, subject, kind, coalesce_key, spec, created"


@dataclass(frozen=True)
class NewJob:
    """A job to persist, as the webhook endpoint made it."""

    delivery: str
    subject: str
    kind: str
    spec: str
    coalesce: str | None = None


@dataclass(frozen=True)
class QueueStats:
    """How far behind the workers are: jobs waiting, and how long the oldest has waited (seconds)."""

    depth: int
    oldest_age: float | None


def inbox_path(db: Path) -> Path:
    """Where the inbox of job store `db` lives: beside it."""
    return db.with_name(db.name + "-inbox")


def connect(db: Path, *, writer: bool) -> sqlite3.Connection:
    """The inbox of `db`, created if needed. The server's (writer) connection never waits or checkpoints."""
    conn = sqlite3.connect(inbox_path(db), isolation_level=None, check_same_thread=False, timeout=5.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(_SCHEMA)
    if writer:
        # Only the server writes here, so a write never finds it locked; checkpoints (copying the
        # log into the file) are left to the worker process's reader connection.
        conn.execute("PRAGMA busy_timeout=0")
        conn.execute("PRAGMA wal_autocheckpoint=0")
    return conn


def insert(conn: sqlite3.Connection, jobs: Sequence[NewJob]) -> list[int | None]:
    """Insert `jobs` in one transaction; each one's id, or None when its delivery was already in."""
    now = time.time()
    ids: list[int | None] = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for job in jobs:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO deliveries (delivery, subject, kind, coalesce_key, spec, created)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (job.delivery, job.subject, job.kind, job.coalesce, job.spec, now),
            )
            ids.append(cursor.lastrowid if cursor.rowcount else None)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return ids


class Inbox:
    """The webhook server's side: add deliveries, and count jobs for /healthz (reading only)."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self._conn = connect(db, writer=True)

    def add_many(self, jobs: Sequence[NewJob]) -> list[int | None]:
        return insert(self._conn, jobs)

    def stats(self) -> QueueStats:
        """Queued jobs and deliveries not taken in yet, and the age of the oldest of them."""
        main = sqlite3.connect(f"{self.db.as_uri()}?mode=ro", uri=True, isolation_level=None)
        try:
            main.execute("BEGIN")
            queued, oldest = main.execute(
                "SELECT COUNT(*), MIN(created) FROM jobs WHERE state='queued'"
            ).fetchone()
            last = main.execute("SELECT COALESCE(MAX(id), 0) FROM jobs").fetchone()[0]
            main.execute("COMMIT")
        finally:
            main.close()
        waiting, first = self._conn.execute(
            "SELECT COUNT(*), MIN(created) FROM deliveries WHERE id > ?", (last,)
        ).fetchone()
        return stats_of(int(queued) + int(waiting), [oldest, first])

    def counts(self) -> dict[str, int]:
        """Jobs by state; deliveries the workers have not taken in yet count as queued."""
        main = sqlite3.connect(f"{self.db.as_uri()}?mode=ro", uri=True, isolation_level=None)
        try:
            # One read transaction: a delivery taken in between two separate reads would be counted
            # neither as waiting here nor under its state there.
            main.execute("BEGIN")
            counts: dict[str, int] = dict(
                main.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
            )
            last = main.execute("SELECT COALESCE(MAX(id), 0) FROM jobs").fetchone()[0]
            main.execute("COMMIT")
        finally:
            main.close()
        waiting = self._conn.execute("SELECT COUNT(*) FROM deliveries WHERE id > ?", (last,)).fetchone()[0]
        if waiting:
            counts["queued"] = counts.get("queued", 0) + int(waiting)
        return counts

    def close(self) -> None:
        self._conn.close()


def stats_of(depth: int, created: Sequence[float | None]) -> QueueStats:
    known = [value for value in created if value is not None]
    return QueueStats(depth, max(0.0, time.time() - min(known)) if known else None)
