"""Runs queued jobs on a fixed number of tracked tasks, retrying transient failures with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from bot.errors import TransientError, UpgradeDepsError
from bot.service.jobs import Job, JobStore

log = logging.getLogger("upgrade-deps.worker")

MAX_ATTEMPTS = 5
BASE_DELAY = 2.0
MAX_DELAY = 300.0
IDLE_POLL = 5.0

Runner = Callable[[Job], Awaitable[None]]


def backoff(attempts: int, retry_after: float | None) -> float:
    """Seconds to wait before attempt `attempts + 1`: exponential, never sooner than Retry-After."""
    delay = min(MAX_DELAY, BASE_DELAY * float(2 ** max(0, attempts - 1)))
    return max(delay, retry_after or 0.0)


class WorkerPool:
    """`size` worker tasks pulling from the store; `wake()` after a job is added."""

    def __init__(
        self, store: JobStore, runner: Runner, *, size: int, on_failure: Runner | None = None
    ) -> None:
        self.store = store
        self.runner = runner
        self.on_failure = on_failure
        self.size = size
        self._wakeup = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False

    def start(self) -> None:
        recovered = self.store.recover()
        if recovered:
            log.info("re-running %d job(s) interrupted by the last stop", recovered)
        for index in range(self.size):
            task = asyncio.create_task(self._loop(), name=f"worker-{index}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def wake(self) -> None:
        self._wakeup.set()

    async def stop(self) -> None:
        """Cancel the workers; a job cut short stays 'running' and is re-run at the next start."""
        self._stopping = True
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while not self._stopping:
            if await self.run_once() is None:
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

    async def _idle(self) -> None:
        due = self.store.next_due()
        timeout = IDLE_POLL if due is None else max(0.05, min(IDLE_POLL, due - time.time()))
        self._wakeup.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout)

    async def _run(self, job: Job) -> None:
        try:
            await self.runner(job)
        except TransientError as exc:
            if job.attempts < MAX_ATTEMPTS:
                delay = backoff(job.attempts, exc.retry_after)
                log.warning("job %d: %s; retrying in %.0f s", job.id, exc, delay)
                self.store.retry(job.id, delay=delay, error=str(exc))
                return
            await self._fail(job, str(exc))
        except asyncio.CancelledError:
            raise
        except UpgradeDepsError as exc:
            # Ours: the message says what went wrong; a traceback is kept for bugs.
            log.error("job %d failed: %s", job.id, exc)
            await self._fail(job, str(exc))
        except Exception as exc:
            log.exception("job %d failed", job.id)
            await self._fail(job, f"{type(exc).__name__}: {exc}")
        else:
            self.store.finish(job.id, "done")

    async def _fail(self, job: Job, error: str) -> None:
        """Report the failure, then record it: a crash in between runs the job again, which reports it."""
        if self.on_failure is not None:
            try:
                await self.on_failure(Job(job.id, job.delivery, job.subject, job.kind, job.spec,
                                          job.attempts, "failed", error))  # fmt: skip
            except UpgradeDepsError as exc:
                log.error("job %d: could not report its failure: %s", job.id, exc)
            except Exception:
                log.exception("job %d: could not report its failure", job.id)
        self.store.finish(job.id, "failed", error)
