"""Runs queued jobs on a fixed number of tracked tasks, retrying transient failures with backoff.

With a store that leases jobs (PostgreSQL) it renews the leases of the jobs it runs and stops a job
whose lease went to another worker; when the database goes away it waits for it and reconnects,
and the job it was running is queued again to re-run from its ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.errors import StoreError, StoreUnavailableError, TransientError, UpgradeDepsError
from bot.service.job_events import JobEvents
from bot.service.jobs import Job
from bot.service.store import JobQueue

log = logging.getLogger("upgrade-deps.worker")

MAX_ATTEMPTS = 5
BASE_DELAY = 2.0
MAX_DELAY = 300.0
IDLE_POLL = 5.0
RECONNECT_MAX = 10.0  # seconds between two attempts to reach a database that went away

Runner = Callable[[Job], Awaitable[None]]
T = TypeVar("T")


def backoff(attempts: int, retry_after: float | None) -> float:
    """Seconds to wait before attempt `attempts + 1`: exponential, never sooner than Retry-After."""
    delay = min(MAX_DELAY, BASE_DELAY * float(2 ** max(0, attempts - 1)))
    return max(delay, retry_after or 0.0)


class WorkerPool:
    """`size` worker tasks pulling from the store; `wake()` after a job is added."""

    def __init__(
        self, store: JobQueue, runner: Runner, *, size: int, on_failure: Runner | None = None,
        events: JobEvents | None = None,
    ) -> None:  # fmt: skip
        self.store = store
        self.events = events  # the log lines, metrics and timing of each run
        self.runner = runner
        self.on_failure = on_failure
        self.size = size
        self._wakeup = asyncio.Event()
        self._stopped = asyncio.Event()  # set once no new job may start
        self._tasks: set[asyncio.Task[None]] = set()
        self._running: dict[int, asyncio.Task[None]] = {}  # job id -> the task running it
        self._lost: set[int] = set()  # jobs whose lease went to another worker
        self._heart: asyncio.Task[None] | None = None

    @property
    def _stopping(self) -> bool:
        return self._stopped.is_set()

    @property
    def running(self) -> int:
        return len(self._running)

    def start(self) -> None:
        try:
            recovered = self.store.recover()
        except StoreUnavailableError as exc:
            log.warning("%s; jobs start once it answers", exc)
            recovered = 0
        if recovered:
            log.info("re-running %d job(s) interrupted by the last stop", recovered)
        for index in range(self.size):
            task = asyncio.create_task(self._loop(), name=f"worker-{index}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if self.store.lease is not None:
            self._heart = asyncio.create_task(self._heartbeat(self.store.lease), name="worker-leases")

    def wake(self) -> None:
        self._wakeup.set()

    async def drain(self) -> None:
        """Start no new job and let the running ones finish; then return."""
        self._stopped.set()
        self._wakeup.set()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._stop_heartbeat()

    async def stop(self) -> None:
        """Cancel the workers now. A job cut short is queued again (released), or, where the store
        could not be told, re-run at the next start (SQLite) or once its lease runs out (PostgreSQL)."""
        self._stopped.set()
        cut = list(self._running)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._stop_heartbeat()
        for job_id in cut:
            with contextlib.suppress(StoreError):
                self.store.release(job_id)

    async def _stop_heartbeat(self) -> None:
        if self._heart is not None:
            self._heart.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heart

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                job = await self.run_once()
            except StoreUnavailableError as exc:
                await self._store_back(exc)
                continue
            except StoreError as exc:
                log.error("could not claim a job: %s", exc)
                job = None
            if job is None:
                await self._idle()

    async def run_once(self, *, now: float | None = None) -> Job | None:
        """Claim the oldest job due at `now` (default: now) and run it as a worker does; None when none is.

        What each worker task repeats; a caller may also drive the pool with it, one job at a time.
        """
        job = self.store.claim(now)
        if job is None:
            return None
        # Another worker may be able to take the next job right away.
        self._wakeup.set()
        await self._run(job)
        return job

    async def _store_back(self, exc: StoreUnavailableError) -> None:
        """Wait, with growing pauses, until the database answers again (or the pool stops)."""
        log.warning("%s; waiting for it", exc)
        pause = 0.5
        # On a thread: reaching a database host that does not answer may take the connect timeout,
        # and the running jobs, their leases and the loop's other work must not wait for it.
        while not self._stopping and not await asyncio.to_thread(self.store.available):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), pause)
            pause = min(RECONNECT_MAX, pause * 2)
        if not self._stopping:
            log.info("the job store answers again")

    async def _persist(self, call: Callable[..., T], *args: object, **kwargs: object) -> T:
        """A store call that must happen: made again once the database is back."""
        while True:
            try:
                return call(*args, **kwargs)
            except StoreUnavailableError as exc:
                if self._stopping:
                    raise
                await self._store_back(exc)

    async def _heartbeat(self, lease: float) -> None:
        """Renew the leases of the running jobs; stop those that went to another worker meanwhile.

        A worker that could not renew for two thirds of the lease stops its jobs itself, before any
        other worker may take them (once the whole lease ran out): two never run one job at once.
        """
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(lease / 3)
            if not self._running:
                renewed = time.monotonic()
                continue
            try:
                lost = await self._renew(list(self._running))
                renewed = time.monotonic()
            except StoreUnavailableError as exc:
                if time.monotonic() - renewed < lease * 2 / 3:
                    continue  # the lease still outlasts the outage
                log.warning("%s; stopping the running jobs before their leases run out", exc)
                lost = set(self._running)
            for job_id in lost:
                task = self._running.get(job_id)
                if task is not None:
                    self._lost.add(job_id)
                    task.cancel()

    async def _renew(self, job_ids: list[int]) -> set[int]:
        """Renew the leases, reconnecting first (on a thread) when the connection was lost."""
        try:
            return self.store.renew(job_ids)
        except StoreUnavailableError:
            if not await asyncio.to_thread(self.store.available):
                raise
            return self.store.renew(job_ids)

    async def _idle(self) -> None:
        try:
            due = self.store.next_due()
        except StoreUnavailableError as exc:
            await self._store_back(exc)
            return
        except StoreError:
            due = None  # the next claim says what is wrong
        timeout = IDLE_POLL if due is None else max(0.05, min(IDLE_POLL, due - time.time()))
        self._wakeup.clear()
        if self._stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout)

    async def _run(self, job: Job) -> None:
        task = asyncio.create_task(self._attempt(job), name=f"job-{job.id}")
        self._running[job.id] = task
        try:
            await task
        except asyncio.CancelledError:
            if job.id not in self._lost:
                raise  # the pool stops
            log.warning("job %d: its lease went to another worker; stopped here", job.id)
        finally:
            self._running.pop(job.id, None)
            self._lost.discard(job.id)

    async def _attempt(self, job: Job) -> None:
        try:
            if self.events is not None:
                await self._persist(self.events.started, job)
            await self._outcome(job)
        except StoreUnavailableError as exc:
            # Lost the database mid-job: nothing is reported; once it is back the job is queued
            # again, and its ledger makes the re-run do each effect once.
            await self._store_back(exc)
            await self._persist(self.store.release, job.id)

    async def _outcome(self, job: Job) -> None:
        try:
            await self.runner(job)
        except StoreUnavailableError:
            raise
        except TransientError as exc:
            if job.attempts < MAX_ATTEMPTS:
                delay = backoff(job.attempts, exc.retry_after)
                await self._persist(self.store.retry, job.id, delay=delay, error=str(exc))
                if self.events is not None:
                    await self._persist(self.events.retried, job, delay=delay, error=str(exc))
                return
            await self._fail(job, str(exc))
        except asyncio.CancelledError:
            raise
        except UpgradeDepsError as exc:
            # Ours: the message says what went wrong (in the job's end line); tracebacks are for bugs.
            await self._fail(job, str(exc))
        except Exception as exc:
            # A bug: its traceback, once, with the job it broke.
            log.exception("job %d failed: a bug", job.id, extra={"job_id": job.id})
            await self._fail(job, f"{type(exc).__name__}: {exc}")
        else:
            await self._persist(self.store.finish, job.id, "done")
            if self.events is not None:
                await self._persist(self.events.ended, job, failed=False)

    async def _fail(self, job: Job, error: str) -> None:
        """Report the failure, then record it: a crash in between runs the job again, which reports it."""
        if self.on_failure is not None:
            try:
                await self.on_failure(Job(job.id, job.delivery, job.subject, job.kind, job.spec,
                                          job.attempts, "failed", error))  # fmt: skip
            except StoreUnavailableError:
                raise  # reported again once the job re-runs
            except UpgradeDepsError as exc:
                log.error("job %d: could not report its failure: %s", job.id, exc)
            except Exception:
                log.exception("job %d: could not report its failure", job.id)
        await self._persist(self.store.finish, job.id, "failed", error)
        if self.events is not None:
            await self._persist(self.events.ended, job, failed=True, error=error)
