"""The server's group commit: deliveries of one loop turn in one write, each acknowledged once durable."""

from __future__ import annotations

import asyncio
import sqlite3

from bot.errors import StoreError
from bot.service.inbox import NewJob
from bot.service.store import Deliveries

Batch = list[tuple[NewJob, asyncio.Future[int | None]]]
RETRY_LOCKED = 0.002  # seconds before trying a write again that found the database locked


def _locked(exc: Exception) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


class GroupCommit:
    """Deliveries that arrive in the same event-loop turn are persisted in one transaction.

    Each request still waits for its own row to be committed before it is acknowledged.
    """

    def __init__(self, store: Deliveries) -> None:
        self.store = store
        self._pending: Batch = []
        self._retrying = False
        self.locked = 0  # writes that found the database locked and were retried (see /healthz)
        # A store whose writes wait on the network (PostgreSQL) is written on a thread, one batch at a
        # time: deliveries arriving meanwhile make the next batch.
        self.threaded = bool(getattr(store, "threaded", False))
        self._writing: asyncio.Task[None] | None = None

    async def add(self, job: NewJob) -> int | None:
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        if not self._pending and not self._retrying and self._writing is None:
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.append((job, future))
        return await future

    def _flush(self) -> None:
        batch, self._pending, self._retrying = self._pending, [], False
        if not batch:
            return
        if self.threaded:
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
