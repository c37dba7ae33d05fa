"""The worker pool: transient failures retried with backoff and Retry-After, others reported."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.errors import ToolError, TransientError
from bot.service.jobs import Job, JobStore
from bot.service.worker import MAX_DELAY, WorkerPool, backoff


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
