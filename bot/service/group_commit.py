"""The server's group commit: deliveries of one loop turn in one write, each acknowledged once durable."""

from __future__ import annotations

import asyncio
import sqlite3

from bot.errors import StoreError, StoreUnavailableError
from bot.service.inbox import NewJob
from bot.service.store import Deliveries

Batch = list[tuple[NewJob, asyncio.Future[int | None]]]
RETRY_LOCKED = 0.002  # seconds before trying a write again that found the database locked
# Seconds a delivery waits for its commit on a store across the network. GitHub gives up on a
# delivery after 10 s; a database that has not answered for this long is as good as gone, and a
# prompt 503 lets the operator redeliver (a commit that lands after it makes the redelivery a
# duplicate the store recognises, never a second job).
COMMIT_WAIT = 2.0


def _locked(exc: Exception) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


def _consume(future: asyncio.Future[int | None]) -> None:
    """An outcome nobody waits for any more (its request was answered 503) is not an error to log."""
    if not future.cancelled():
        future.exception()


class GroupCommit:
    """Deliveries that arrive in the same event-loop turn are persisted in one transaction.

    Each request still waits for its own row to be committed before it is acknowledged.
    """

    def __init__(self, store: Deliveries, *, wait: float = COMMIT_WAIT) -> None:
        self.store = store
        self.wait = wait
        self._pending: Batch = []
        self._retrying = False
        self.locked = 0  # writes that found the database locked and were retried (see /healthz)
        # A store whose writes wait on the network (PostgreSQL) is written on a thread, one batch at a
        # time: deliveries arriving meanwhile make the next batch.
        self.threaded = bool(getattr(store, "threaded", False))
        self._writing: asyncio.Task[None] | None = None
        self._writing_since = 0.0

    @property
    def stalled(self) -> bool:
        """Whether the write under way has not come back within `wait`: the database does not answer."""
        return (self.threaded and self._writing is not None
                and asyncio.get_running_loop().time() - self._writing_since > self.wait)  # fmt: skip

    async def add(self, job: NewJob) -> int | None:
        loop = asyncio.get_running_loop()
        if self.stalled:  # answer now rather than queue behind it
            raise StoreUnavailableError(f"the job store has not answered for {self.wait:g} s")
        future: asyncio.Future[int | None] = loop.create_future()
        if not self._pending and not self._retrying and self._writing is None:
            loop.call_soon(self._flush)
        self._pending.append((job, future))
        if not self.threaded:
            return await future
        future.add_done_callback(_consume)
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.wait)
        except TimeoutError:
            raise StoreUnavailableError(f"the job store did not commit within {self.wait:g} s") from None

    def _flush(self) -> None:
        batch, self._pending, self._retrying = self._pending, [], False
        if not batch:
            return
        if self.threaded:
            self._writing_since = asyncio.get_running_loop().time()
            self._writing = asyncio.create_task(self._write(batch), name="deliveries-commit")
            return
        try:
            ids = self.store.add_many([job for job, _ in batch])
        except Exception as exc:  # whatever it is, every waiting request gets an answer
            if _locked(exc):
                self._later(batch)
            else:
                self._one_by_one(batch)
            return
        for (_, future), job_id in zip(batch, ids, strict=True):
            future.set_result(job_id)

    async def _write(self, batch: Batch) -> None:
        try:
            ids = await asyncio.to_thread(self.store.add_many, [job for job, _ in batch])
        except StoreError as exc:
            for _, future in batch:  # the database is gone, or refused the batch: none of it is stored
                future.set_exception(exc)
        except Exception:
            await asyncio.to_thread(self._one_by_one, batch)
        else:
            for (_, future), job_id in zip(batch, ids, strict=True):
                future.set_result(job_id)
        finally:
            self._writing = None
            if self._pending:
                self._flush()

    def _later(self, batch: Batch) -> None:
        # The worker process holds the write lock for a moment: try again shortly, with any
        # deliveries that arrived meanwhile, instead of sleeping with the event loop stopped.
        self._pending = batch + self._pending
        self._retrying = True
        self.locked += 1
        asyncio.get_running_loop().call_later(RETRY_LOCKED, self._flush)

    def _one_by_one(self, batch: Batch) -> None:
        """The batch's transaction failed (and was rolled back): one bad row must not fail its neighbours."""
        for index, (job, future) in enumerate(batch):
            try:
                [job_id] = self.store.add_many([job])
            except Exception as exc:
                if _locked(exc):
                    self._later(batch[index:])
                    return
                future.set_exception(exc)  # this request answers 503; none is dropped silently
            else:
                future.set_result(job_id)
