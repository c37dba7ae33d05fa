"""The job store, on both backends: redelivery, per-subject serialisation, coalescing, retries, records.

Every test taking `store` runs against SQLite and PostgreSQL; what only one backend has (SQLite's
WAL mode and restart recovery, PostgreSQL's leases) is tested below for that backend.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.model import Commit, Request, UpgradeResult
from bot.pipeline.request import parse_request
from bot.service.jobs import JobStore, NewJob
from bot.service.ledger import CheckRun, PushIntent, Reply, Result
from bot.service.pgjobs import PgJobStore
from bot.service.publication import make_plan
from bot.service.store import JobQueue

LEASE = 30.0


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobQueue]:
    opened: JobQueue
    if request.param == "sqlite":
        opened = JobStore(tmp_path / "jobs.sqlite3")
    else:
        opened = PgJobStore(request.getfixturevalue("pg_url"), lease=LEASE)
    yield opened
    opened.close()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_redelivery_makes_no_second_job(store: JobQueue) -> None:
    first = store.add(delivery="d1", subject="o/r#1", kind="command", spec="{}")
    again = store.add(delivery="d1", subject="o/r#1", kind="command", spec="{}")
    assert first is not None and again is None
    assert len(store.jobs()) == 1


def test_jobs_of_one_subject_run_one_at_a_time(store: JobQueue) -> None:
    a = store.add(delivery="a", subject="o/r#1", kind="command", spec="{}")
    b = store.add(delivery="b", subject="o/r#1", kind="command", spec="{}")
    c = store.add(delivery="c", subject="o/r#2", kind="command", spec="{}")
    first = store.claim()
    second = store.claim()
    assert first is not None and second is not None
    assert (first.id, second.id) == (a, c)  # b waits for a
    assert store.claim() is None
    store.finish(a or 0, "done")
    third = store.claim()
    assert third is not None and third.id == b


def test_superseded_queued_jobs_are_coalesced(store: JobQueue) -> None:
    old = store.add(delivery="1", subject="o/r#5", kind="bot-pull", spec="{}", coalesce="o/r#5:pull")
    running = store.claim()
    assert running is not None and running.id == old
    queued = store.add(delivery="2", subject="o/r#5", kind="bot-pull", spec="{}", coalesce="o/r#5:pull")
    newest = store.add(delivery="3", subject="o/r#5", kind="bot-pull", spec="{}", coalesce="o/r#5:pull")
    states = {job.id: job.state for job in store.jobs()}
    assert states == {old: "running", queued: "superseded", newest: "queued"}


def test_sqlite_running_jobs_are_queued_again_after_a_crash(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    job_id = store.add(delivery="x", subject="s", kind="command", spec="{}")
    assert store.claim() is not None
    store.ledger(job_id or 0).set_check_id("abc", 77)
    store.close()  # the process dies here
    reopened = JobStore(tmp_path / "jobs.sqlite3")
    assert reopened.recover() == 1
    job = reopened.claim()
    assert job is not None and job.id == job_id and job.attempts == 2
    assert reopened.ledger(job.id).check_run("abc") == CheckRun("abc", 77)


def test_retry_waits_until_due(store: JobQueue) -> None:
    job_id = store.add(delivery="x", subject="s", kind="command", spec="{}") or 0
    assert store.claim() is not None
    store.retry(job_id, delay=30, error="GitHub answered 502")
    assert store.claim() is None
    due = store.next_due()
    assert due is not None and due > time.time() + 20
    job = store.claim(now=time.time() + 31)
    assert job is not None and job.id == job_id


def test_check_runs_map_back_to_their_job(store: JobQueue) -> None:
    job_id = store.add(delivery="x", subject="s", kind="command", spec='{"a": 1}') or 0
    store.ledger(job_id).set_check_id("abc", 9001)
    job = store.job_for_check_run(9001)
    assert job is not None and job.spec == '{"a": 1}'
    assert store.job_for_check_run(1) is None
    by_head = store.job_for_head("abc")
    assert by_head is not None and by_head.id == job_id and store.job_for_head("def") is None


def test_a_burst_is_one_transaction_with_redeliveries_inside(store: JobQueue) -> None:
    jobs = [NewJob(f"d{i % 3}", "o/r#1", "bot-pull", "{}", "o/r#1:pull") for i in range(5)]
    ids = store.add_many(jobs)
    assert [job_id is not None for job_id in ids] == [True, True, True, False, False]
    assert [job.state for job in store.jobs()] == ["superseded", "superseded", "queued"]


def test_the_ledger_keeps_intents_and_outcomes_per_job(store: JobQueue) -> None:
    ledger, other = store.ledger(1), store.ledger(2)
    ledger.set_request(parse_request(["sglang==0.5.10"]))
    ledger.intend_check("h1")
    ledger.set_check_id("h1", 11)
    ledger.finishing_check("h1")
    ledger.intend_check("h2")
    ledger.set_current("h1")
    assert ledger.check_runs() == [CheckRun("h1", 11, None, True), CheckRun("h2")]
    assert ledger.current_check() == CheckRun("h1", 11, None, True)
    ledger.check_done("h1", "failure")
    assert ledger.check_run("h1") == CheckRun("h1", 11, "failure", False)
    ledger.intend_reply("result")
    assert ledger.reply("result") == Reply("result", None) and other.reply("result") is None
    ledger.set_reply("result", 5)
    assert ledger.reply("result") == Reply("result", 5)
    assert ledger.request() == parse_request(["sglang==0.5.10"])
    assert not ledger.review_done()
    ledger.set_review_done(None)  # nothing was left to post: done all the same
    assert ledger.review_done() and not other.review_done()
    assert store.ledger(2).check_runs() == [] and other.result() is None


def test_a_confirmed_push_becomes_the_result_at_once(store: JobQueue) -> None:
    ledger = store.ledger(1)
    result = UpgradeResult(Request((), "x==1"), "landed", "2026-01-01")
    plan = make_plan(result, audit_only=False, pushed=True, branch="b")
    intent = PushIntent("b", None, "c0ffee", plan)
    ledger.intend_push(intent)
    assert ledger.push_intent() == intent and ledger.result() is None
    ledger.confirm_push(intent)
    assert ledger.push_intent() is None and ledger.result() == Result(plan, "c0ffee")
    revert = PushIntent("b", "c0ffee", "beef", reverted=(Commit("c0ffee", "Pin x 1"),))
    ledger.intend_push(revert)
    ledger.confirm_push(revert)
    assert ledger.reverted() == (Commit("c0ffee", "Pin x 1"),)
