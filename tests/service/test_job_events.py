"""Each run of a job in the log and in its ledger: started, ended with its conclusion, retried; a bug's
traceback once, with the job id."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.errors import ToolError, TransientError
from bot.service.job_events import JobEvents
from bot.service.jobs import Job, JobStore
from bot.service.metrics import Metrics
from bot.service.worker import WorkerPool


async def run_all(store: JobStore, pool: WorkerPool) -> None:
    """Until every job ran once: ended for good, or queued again with the error it met."""
    pool.start()
    deadline = time.monotonic() + 60  # a bound for a busy machine, not a timing expectation
    while time.monotonic() < deadline:
        jobs = store.jobs()
        if all(job.state in ("done", "failed") or (job.state == "queued" and job.error) for job in jobs):
            break
        await asyncio.sleep(0.02)
    await pool.stop()


async def test_start_end_retry_and_a_bug(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    store = JobStore(tmp_path / "jobs.sqlite3")
    ids = {name: store.add(delivery=name, subject=name, kind="command", spec="{}") for name in
           ("fine", "flaky", "ours", "bug")}  # fmt: skip

    async def runner(job: Job) -> None:
        if job.delivery == "flaky":
            raise TransientError("GitHub answered 502", retry_after=300)
        if job.delivery == "ours":
            raise ToolError("git clone failed")
        if job.delivery == "bug":
            raise KeyError("a bug")

    metrics = Metrics()
    pool = WorkerPool(store, runner, size=2, events=JobEvents(store=store, metrics=metrics))
    await run_all(store, pool)
    lines = [(r.getMessage(), getattr(r, "job_id", None), getattr(r, "exit", None)) for r in caplog.records]
    for name in ("fine", "ours", "bug"):
        assert ("job started", ids[name], None) in lines
    assert ("job ended", ids["fine"], "done") in lines and ("job ended", ids["ours"], "failed") in lines
    assert ("job retried", ids["flaky"], None) in lines
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert [(r.getMessage(), getattr(r, "job_id", None)) for r in tracebacks] == [
        (f"job {ids['bug']} failed: a bug", ids["bug"])
    ]
    ended = {getattr(r, "job_id", None): r for r in caplog.records if r.getMessage() == "job ended"}
    assert getattr(ended[ids["ours"]], "error") == "git clone failed"  # noqa: B009
    assert getattr(ended[ids["fine"]], "conclusion") == "none"  # noqa: B009  (no check run published)
    timing = store.ledger(ids["fine"] or 0).timing()
    assert timing is not None and timing.ended is not None and timing.ended >= timing.started
    assert timing.exit == "done" and store.ledger(ids["flaky"] or 0).timing().exit == "retry"  # type: ignore[union-attr]
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for m in metrics.registry.collect()
               for s in m.samples}  # fmt: skip
    assert samples[("upgrade_deps_jobs_total", (("conclusion", "none"), ("kind", "command")))] == 1
    assert samples[("upgrade_deps_jobs_total", (("conclusion", "failure"), ("kind", "command")))] == 2
    assert samples[("upgrade_deps_job_retries_total", (("kind", "command"),))] == 1
    assert samples[("upgrade_deps_job_seconds_count", (("kind", "command"),))] == 4
