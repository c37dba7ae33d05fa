"""The job ledger: what each job did on GitHub and what it was about to do, the only code that stores it."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any, Protocol

import msgspec

from bot.model import Commit, Request
from bot.pipeline.request import parse_request
from bot.service.publication import Publication

SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger (
    job_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (job_id, kind, key)
);
CREATE INDEX IF NOT EXISTS ledger_by_key ON ledger (kind, key);
CREATE TABLE IF NOT EXISTS check_runs (
    check_run_id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL
);
"""


Row = tuple[Any, ...]


class Sql(Protocol):
    """The few calls the ledger makes, written in SQLite's `?` style; each job store runs them its way."""

    rowid: str  # the column that keeps the order rows were first written in

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def run(self, sql: str, params: Sequence[Any] = ()) -> int: ...

    def transaction(self) -> AbstractContextManager[None]: ...


class SqliteSql:
    """`Sql` on a SQLite connection in autocommit mode (the SQLite job store's)."""

    rowid = "rowid"

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self._db.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._db.execute(sql, params).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._db.execute(sql, params).rowcount

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


@dataclass(frozen=True)
class CheckRun:
    """The job's check run on one head; `id` is None while only the intent to create it is recorded."""

    head: str
    id: int | None = None
    conclusion: str | None = None  # set once this job completed it
    finishing: bool = False  # annotations or the completion may have reached GitHub


@dataclass(frozen=True)
class PushIntent:
    """A push about to happen: enough to tell afterwards, from the remote alone, whether it did."""

    branch: str
    before: str | None  # the remote branch's head before the push (None: the branch did not exist)
    commit: str  # the commit pushed
    plan: Publication | None = None  # an upgrade's result, published once the push is confirmed
    reverted: tuple[Commit, ...] = ()  # a revert's commits


@dataclass(frozen=True)
class Result:
    """A job's finished work: what it publishes and the commit it ends on (pushed, or as cloned)."""

    plan: Publication
    head: str


@dataclass(frozen=True)
class Timing:
    """When the job's latest run started and ended (epoch seconds), and how it ended."""

    started: float
    ended: float | None = None
    conclusion: str | None = None  # the check run's, or "none" for a job that publishes none
    exit: str | None = None  # done, failed, retry


@dataclass(frozen=True)
class Reply:
    """A reply of the job; `id` is None while only the intent to post it is recorded."""

    key: str
    id: int | None


def _plan(data: Any) -> Publication | None:
    return None if data is None else Publication.loads(data)


class Ledger:
    """One job's entries. Each effect on GitHub is recorded as an intent before it and as done after it,
    so a re-run after a crash knows where to look on GitHub instead of assuming."""

    def __init__(self, db: Sql, job_id: int) -> None:
        self._db = db
        self.job_id = job_id

    def _get(self, kind: str, key: str = "") -> Any:
        row = self._db.one(
            "SELECT value FROM ledger WHERE job_id=? AND kind=? AND key=?", (self.job_id, kind, key)
        )
        return None if row is None else json.loads(row[0])

    def _put(self, kind: str, value: Any, key: str = "") -> None:
        self._db.run(
            "INSERT INTO ledger (job_id, kind, key, value) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (job_id, kind, key) DO UPDATE SET value=excluded.value",
            (self.job_id, kind, key, json.dumps(value)),
        )

    def _drop(self, kind: str, key: str = "") -> None:
        self._db.run("DELETE FROM ledger WHERE job_id=? AND kind=? AND key=?", (self.job_id, kind, key))

    # What a command asked for: a re-run of its check run asks the same.
    def request(self) -> Request | None:
        data = self._get("request")
        if isinstance(data, list):  # stored as the command's words before requests were stored parsed
            return parse_request([str(word) for word in data])
        return None if data is None else msgspec.convert(data, Request)

    def set_request(self, request: Request) -> None:
        self._put("request", msgspec.to_builtins(request))

    # The finished work
    def result(self) -> Result | None:
        data = self._get("result")
        return None if data is None else Result(Publication.loads(data["plan"]), data["head"])

    def set_result(self, plan: Publication, head: str) -> None:
        self._put("result", {"plan": plan.dumps(), "head": head})

    def reverted(self) -> tuple[Commit, ...] | None:
        data = self._get("reverted")
        return None if data is None else tuple(Commit(sha, message) for sha, message in data)

    def set_reverted(self, commits: Sequence[Commit]) -> None:
        self._put("reverted", [[c.sha, c.message] for c in commits])

    # Pushes
    def push_intent(self) -> PushIntent | None:
        data = self._get("push")
        if data is None:
            return None
        reverted = tuple(Commit(sha, message) for sha, message in data["reverted"])
        return PushIntent(data["branch"], data["before"], data["commit"], _plan(data["plan"]), reverted)

    def intend_push(self, intent: PushIntent) -> None:
        plan = intent.plan.dumps() if intent.plan is not None else None
        reverted = [[c.sha, c.message] for c in intent.reverted]
        self._put("push", {"branch": intent.branch, "before": intent.before, "commit": intent.commit,
                           "plan": plan, "reverted": reverted})  # fmt: skip

    def confirm_push(self, intent: PushIntent) -> None:
        """The push is on the remote: its result becomes the job's, in one transaction."""
        with self._db.transaction():
            if intent.plan is not None:
                self.set_result(intent.plan, intent.commit)
            else:
                self.set_reverted(intent.reverted)
            self._drop("push")

    def drop_push(self) -> None:
        self._drop("push")

    # Check runs, one per head the job worked on
    def check_runs(self) -> list[CheckRun]:
        rows = self._db.all(
            f"SELECT key, value FROM ledger WHERE job_id=? AND kind='check' ORDER BY {self._db.rowid}",  # noqa: S608 - the backend's row order column
            (self.job_id,),
        )
        return [CheckRun(head, **json.loads(value)) for head, value in rows]

    def check_run(self, head: str) -> CheckRun | None:
        data = self._get("check", head)
        return None if data is None else CheckRun(head, **data)

    def _put_check(self, run: CheckRun) -> None:
        self._put("check", {"id": run.id, "conclusion": run.conclusion, "finishing": run.finishing}, run.head)

    def intend_check(self, head: str) -> None:
        self._put_check(CheckRun(head))

    def set_check_id(self, head: str, check_id: int) -> None:
        """Created (or found again): in progress, and mapped back to this job for re-run requests."""
        self._put_check(CheckRun(head, check_id))
        self._db.run(
            "INSERT INTO check_runs (check_run_id, job_id) VALUES (?, ?)"
            " ON CONFLICT (check_run_id) DO UPDATE SET job_id=excluded.job_id",
            (check_id, self.job_id),
        )

    def forget_check(self, head: str) -> None:
        """The intent was recorded but GitHub has no such run: it was never created."""
        self._drop("check", head)

    def finishing_check(self, head: str) -> None:
        run = self.check_run(head) or CheckRun(head)
        self._put_check(replace(run, finishing=True))

    def check_done(self, head: str, conclusion: str) -> None:
        run = self.check_run(head) or CheckRun(head)
        self._put_check(replace(run, conclusion=conclusion, finishing=False))

    def current_check(self) -> CheckRun | None:
        head = self._get("current")
        return None if head is None else self.check_run(head)

    def set_current(self, head: str) -> None:
        self._put("current", head)

    # Comments, the pull request, the review, the reaction
    def reply(self, key: str) -> Reply | None:
        data = self._get("reply", key)
        return None if data is None else Reply(key, data["id"])

    def intend_reply(self, key: str) -> None:
        self._put("reply", {"id": None}, key)

    def set_reply(self, key: str, comment_id: int) -> None:
        self._put("reply", {"id": comment_id}, key)

    def summary_comment(self) -> int | None:
        found = self._get("summary")
        return None if found is None else int(found)

    def set_summary_comment(self, comment_id: int) -> None:
        self._put("summary", comment_id)

    def pull(self) -> tuple[int, str] | None:
        data = self._get("pull")
        return None if data is None else (int(data[0]), str(data[1]))

    def set_pull(self, number: int, url: str) -> None:
        self._put("pull", [number, url])

    def review_done(self) -> bool:
        return self._get("review") is not None

    def set_review_done(self, review_id: int | None) -> None:
        """Posted (or nothing was left to post: `review_id` None)."""
        self._put("review", {"id": review_id})

    # When the job ran, for the status page (written by the worker around each run)
    def timing(self) -> Timing | None:
        data = self._get("timing")
        return None if data is None else Timing(**data)

    def set_timing(self, timing: Timing) -> None:
        self._put("timing", {"started": timing.started, "ended": timing.ended,
                             "conclusion": timing.conclusion, "exit": timing.exit})  # fmt: skip

    def reacted(self) -> bool:
        return self._get("reaction") is not None

    def set_reacted(self, content: str) -> None:
        self._put("reaction", content)


def job_for_head(db: Sql, head_sha: str) -> int | None:
    """The latest job that had a check run on `head_sha` (for a re-run of the whole check suite)."""
    row = db.one(
        "SELECT job_id FROM ledger WHERE kind='check' AND key=? ORDER BY job_id DESC LIMIT 1", (head_sha,)
    )
    return None if row is None else int(row[0])


def job_for_check_run(db: Sql, check_run_id: int) -> int | None:
    row = db.one("SELECT job_id FROM check_runs WHERE check_run_id=?", (check_run_id,))
    return None if row is None else int(row[0])
