"""The worker pool: transient failures retried with backoff and Retry-After, others reported."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from bot.errors import StoreUnavailableError, ToolError, TransientError
from bot.pipeline.context import Runtime
from bot.pipeline.request import parse_request
from bot.pipeline.upgrade import run_upgrade
from bot.service.jobs import Job, JobStore
from bot.service.pgconn import Database
from bot.service.pgjobs import PgJobStore
from bot.service.pgschema import migrate
from bot.service.worker import MAX_DELAY, WorkerPool, backoff
from bot.tools.isolation import Isolation
from tests.support.postgres import cut_connections, running_cluster
from tests.support.repos import dual_repo, git, snapshot


class Held:
    """A job runner that works until `finish` is set, or until cancelled (then `stopped` is set)."""

    def __init__(self) -> None:
        self.started, self.finish, self.stopped = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def __call__(self, job: Job) -> None:
        self.started.set()
        try:
            await self.finish.wait()
        except asyncio.CancelledError:
            self.stopped.set()
            raise


def test_backoff_grows_and_respects_retry_after() -> None:
    assert [backoff(n, None) for n in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert backoff(1, 60.0) == 60.0
    assert backoff(30, None) == MAX_DELAY


async def test_transient_error_is_retried_later_and_other_errors_fail(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    flaky = store.add(delivery="flaky", subject="a", kind="command", spec="{}")
    broken = store.add(delivery="broken", subject="b", kind="command", spec="{}")
    failures: list[Job] = []
    stored: list[str | None] = []

    async def runner(job: Job) -> None:
        if job.delivery == "flaky":
            raise TransientError("GitHub answered 502", retry_after=120)
        raise ToolError("git clone failed")

    async def on_failure(job: Job) -> None:
        failures.append(job)
        found = store.get(job.id)
        stored.append(found.state if found else None)

    pool = WorkerPool(store, runner, size=2, on_failure=on_failure)
    pool.start()
    deadline = time.monotonic() + 60  # a bound for a busy machine, not a timing expectation
    # ASYNC110: the states live in SQLite, written by the pool's tasks; no event says when both are final.
    while {job.state for job in store.jobs()} != {"queued", "failed"} and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    await pool.stop()
    jobs = {job.id: job for job in store.jobs()}
    assert jobs[flaky or 0].state == "queued" and jobs[flaky or 0].error == "GitHub answered 502"
    due = store.next_due()
    assert due is not None and due >= time.time() + 100  # not before Retry-After (120 s)
    assert jobs[broken or 0].state == "failed"
    assert [job.error for job in failures] == ["git clone failed"]
    # Our own errors are logged as one line; a traceback is for bugs only.
    assert not [record for record in caplog.records if record.exc_info]
    # Reported while still running: a crash during the report runs the job again, which reports it.
    assert stored == ["running"]


async def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60  # a bound for a busy machine, not a timing expectation
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_a_job_whose_lease_went_to_another_worker_is_stopped_here(pg_url: str) -> None:
    store = PgJobStore(pg_url, lease=0.6)  # renewed every 0.2 s
    job_id = store.add(delivery="d", subject="s", kind="command", spec="{}")
    held = Held()  # works until stopped
    pool = WorkerPool(store, held, size=1)
    pool.start()
    await asyncio.wait_for(held.started.wait(), 60)
    other = PgJobStore(pg_url, lease=60)
    taken = other.claim(now=time.time() + 3600)  # as if this worker had stopped renewing long ago
    assert taken is not None and taken.id == job_id
    await asyncio.wait_for(held.stopped.wait(), 60)
    await pool.stop()
    found = other.get(taken.id)
    assert found is not None and found.state == "running"  # still the other worker's: nothing released


async def test_a_job_that_lost_the_database_is_queued_again_and_runs_from_its_ledger(pg_url: str) -> None:
    store = PgJobStore(pg_url, lease=60)
    job_id = store.add(delivery="d", subject="s", kind="command", spec="{}") or 0
    runs: list[int] = []
    failures: list[Job] = []
    cut = asyncio.Event()

    async def runner(job: Job) -> None:
        runs.append(job.attempts)
        ledger = store.ledger(job.id)
        if job.attempts == 1:
            ledger.set_reacted("eyes")
            await cut.wait()
        assert ledger.reacted()  # raises StoreUnavailableError while the connection is gone

    async def on_failure(job: Job) -> None:
        failures.append(job)

    pool = WorkerPool(store, runner, size=1, on_failure=on_failure)
    pool.start()
    await _until(lambda: bool(runs), "the job to start")
    with psycopg.connect(pg_url, autocommit=True) as conn:  # the database drops the worker's connection
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'upgrade-deps' AND pid <> pg_backend_pid()"
        )
    cut.set()
    watch = PgJobStore(pg_url, lease=60)

    def done() -> bool:
        found = watch.get(job_id)
        return found is not None and found.state == "done"

    await _until(done, "the job to finish")
    await pool.stop()
    assert runs == [1, 2] and failures == []  # nothing reported as failed: it ran again, and finished


async def test_draining_lets_the_running_job_finish_and_starts_no_other(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    first = store.add(delivery="first", subject="a", kind="command", spec="{}")
    started, finish = asyncio.Event(), asyncio.Event()
    ran: list[str] = []

    async def runner(job: Job) -> None:
        ran.append(job.delivery)
        started.set()
        await finish.wait()

    pool = WorkerPool(store, runner, size=1)
    pool.start()
    await asyncio.wait_for(started.wait(), 60)
    store.add(delivery="second", subject="b", kind="command", spec="{}")
    pool.wake()
    draining = asyncio.create_task(pool.drain())
    await asyncio.sleep(0)  # let the drain begin before the job may end
    assert not draining.done()
    finish.set()
    await asyncio.wait_for(draining, 60)
    states = {job.delivery: job.state for job in store.jobs()}
    assert ran == ["first"] and states == {"first": "done", "second": "queued"} and first is not None


async def test_stopping_now_queues_the_cut_short_job_again(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    store.add(delivery="only", subject="a", kind="command", spec="{}")
    started = asyncio.Event()

    async def runner(job: Job) -> None:
        started.set()
        await asyncio.Event().wait()

    pool = WorkerPool(store, runner, size=1)
    pool.start()
    await asyncio.wait_for(started.wait(), 60)
    await pool.stop()
    [job] = store.jobs()
    assert job.state == "queued" and job.attempts == 1  # another worker (or the next start) takes it


async def test_a_lost_database_mid_upgrade_ends_the_attempt_instead_of_failing_the_upgrade(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    """A progress update reads the ledger: losing the database there must not read as a failed upgrade."""
    repo = dual_repo(tmp_path)
    before = snapshot(repo)

    async def progress(step: str) -> None:
        if step.startswith("lock "):
            raise StoreUnavailableError("lost the job store (postgresql /run/db/upgrade_deps)")

    with pytest.raises(StoreUnavailableError):
        await run_upgrade(repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, isolation),
                          progress=progress)  # fmt: skip
    assert snapshot(repo) == before and git(repo, "status", "--porcelain") == ""


async def test_a_worker_that_cannot_renew_stops_its_job_before_the_lease_runs_out() -> None:
    with running_cluster() as cluster:
        url = cluster.create_database()
        migrate(Database(url), at_start=True)
        store = PgJobStore(url, lease=1.5)  # renewed every 0.5 s; stopped here after 1 s without
        store.add(delivery="d", subject="s", kind="command", spec="{}")
        held = Held()
        pool = WorkerPool(store, held, size=1)
        pool.start()
        await asyncio.wait_for(held.started.wait(), 60)
        cluster.stop()  # this worker can renew nothing now; another could take the job in 1.5 s
        await asyncio.wait_for(held.stopped.wait(), 60)
        assert pool.running == 0
        await pool.stop()


async def test_a_worker_whose_connection_drops_reconnects_and_keeps_its_running_job(pg_url: str) -> None:
    store = PgJobStore(pg_url, lease=1.5)  # renewed every 0.5 s; stopped after 1 s without renewal
    store.add(delivery="d", subject="s", kind="command", spec="{}")
    held = Held()
    pool = WorkerPool(store, held, size=1)
    pool.start()
    await asyncio.wait_for(held.started.wait(), 60)
    assert cut_connections(pg_url) == 1
    await asyncio.sleep(2.5)  # past the whole lease: only renewals on a new connection kept it
    assert not held.stopped.is_set() and pool.running == 1
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT state, lease_owner FROM jobs").fetchone() == ("running", store.owner)
    held.finish.set()
    await pool.drain()
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT state FROM jobs").fetchone() == ("done",)
    store.close()
