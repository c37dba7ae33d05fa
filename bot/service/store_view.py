"""Read-only views of the job store for the server's /metrics and /status: the queue, the recent jobs."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bot.errors import JobSpecError
from bot.service import jobspec
from bot.service.commands import Help, Malformed, Revert, Upgrade
from bot.service.inbox import inbox_path
from bot.service.ledger import Ledger, SqliteSql, Timing

if TYPE_CHECKING:
    from bot.service.pgconn import Database

RECENT = 50  # jobs the status page lists


@dataclass(frozen=True)
class Queue:
    """Jobs by (state, kind), deliveries not yet taken in counted as queued; the oldest queued job's time."""

    by_state_kind: dict[tuple[str, str], int]
    oldest_queued: float | None  # epoch seconds of its delivery


@dataclass(frozen=True)
class JobView:
    """One job as the status page shows it."""

    id: int
    repo: str
    number: int | None
    is_pull: bool
    kind: str
    request: str
    state: str
    conclusion: str | None
    created: float
    timing: Timing | None
    check_run: int | None  # the id of its latest check run on GitHub
    error: str | None


class StoreView(Protocol):
    """What /metrics and /status read of the job store, whichever backend holds it."""

    def queue(self) -> Queue: ...

    def recent(self, limit: int = RECENT) -> list[JobView]: ...

    def close(self) -> None: ...


class QueueView:
    """Opens the job store and its inbox read-only for each look: the server never writes the job store."""

    def __init__(self, db: Path) -> None:
        self.db = db

    @contextlib.contextmanager
    def _read(self) -> Iterator[tuple[sqlite3.Connection, sqlite3.Connection]]:
        main = sqlite3.connect(f"{self.db.as_uri()}?mode=ro", uri=True, isolation_level=None)
        box = sqlite3.connect(f"{inbox_path(self.db).as_uri()}?mode=ro", uri=True, isolation_level=None)
        try:
            main.execute("BEGIN")  # one snapshot of the store for the whole look
            yield main, box
            main.execute("COMMIT")
        finally:
            main.close()
            box.close()

    def queue(self) -> Queue:
        with self._read() as (main, box):
            rows = main.execute("SELECT state, kind, COUNT(*) FROM jobs GROUP BY state, kind").fetchall()
            counts = {(state, kind): int(n) for state, kind, n in rows}
            oldest = main.execute("SELECT MIN(created) FROM jobs WHERE state='queued'").fetchone()[0]
            last = main.execute("SELECT COALESCE(MAX(id), 0) FROM jobs").fetchone()[0]
            waiting = box.execute(
                "SELECT kind, COUNT(*), MIN(created) FROM deliveries WHERE id > ? GROUP BY kind", (last,)
            ).fetchall()
        for kind, n, created in waiting:
            counts[("queued", kind)] = counts.get(("queued", kind), 0) + int(n)
            oldest = created if oldest is None else min(oldest, created)
        return Queue(counts, None if oldest is None else float(oldest))

    def recent(self, limit: int = RECENT) -> list[JobView]:
        """The latest jobs, newest first, each with what its ledger says of its run."""
        with self._read() as (main, _):
            rows = main.execute(
                "SELECT id, kind, spec, state, created, error FROM jobs ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
            return [_view(Ledger(SqliteSql(main), row[0]), row) for row in rows]

    def close(self) -> None:
        """Nothing stays open between looks."""


class PgQueueView:
    """The same views of the PostgreSQL job store, on a connection of their own (read only)."""

    def __init__(self, url: str) -> None:
        from bot.service.pgconn import Database

        self._db: Database = Database(url)
        self._lock = threading.Lock()  # one look at a time on the connection (scrapes run on threads)

    def queue(self) -> Queue:
        with self._lock, self._db.transaction():
            rows = self._db.all("SELECT state, kind, COUNT(*) FROM jobs GROUP BY state, kind")
            oldest = self._db.one("SELECT MIN(created) FROM jobs WHERE state='queued'")
        counts = {(str(state), str(kind)): int(n) for state, kind, n in rows}
        first = None if oldest is None or oldest[0] is None else float(oldest[0])
        return Queue(counts, first)

    def recent(self, limit: int = RECENT) -> list[JobView]:
        with self._lock, self._db.transaction():
            rows = self._db.all(
                "SELECT id, kind, spec, state, created, error FROM jobs ORDER BY id DESC LIMIT ?", (limit,)
            )
            return [_view(Ledger(self._db, int(row[0])), (int(row[0]), *row[1:])) for row in rows]

    def close(self) -> None:
        self._db.close()


def _view(ledger: Ledger, row: tuple[int, str, str, str, float, str | None]) -> JobView:
    """A `jobs` row (id, kind, spec, state, created, error) with what its ledger says."""
    job_id, kind, spec_text, state, created, error = row
    repo, number, is_pull, asked = _spec_facts(kind, spec_text)
    request = ledger.request()
    result = ledger.result()
    runs = [run for run in ledger.check_runs() if run.id is not None]
    timing = ledger.timing()
    conclusion = result.plan.conclusion if result is not None else (timing.conclusion if timing else None)
    return JobView(
        id=job_id, repo=repo, number=number, is_pull=is_pull, kind=kind,
        request=request.raw if request is not None else asked, state=state,
        conclusion=conclusion, created=float(created), timing=timing,
        check_run=runs[-1].id if runs else None, error=error,
    )  # fmt: skip


def _spec_facts(kind: str, text: str) -> tuple[str, int | None, bool, str]:
    """Repository, issue or pull request number, whether it is a pull request, and what was asked."""
    try:
        spec = jobspec.loads(kind, text)
    except JobSpecError:
        return "", None, False, "(unreadable job)"
    if isinstance(spec, jobspec.Command):
        asked = spec.asked
        words = {Help: "help", Revert: "revert", Malformed: "(malformed command)"}
        said = asked.request.raw if isinstance(asked, Upgrade) else words.get(type(asked), "")
        return spec.target.repo, spec.number, spec.is_pull, said
    if isinstance(spec, jobspec.BotPull):
        return spec.target.repo, spec.number, True, f"{spec.author}'s pull request"
    number = spec.pulls[0] if spec.pulls else None
    return spec.target.repo, number, number is not None, "re-run"
