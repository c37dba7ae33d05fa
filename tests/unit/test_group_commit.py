"""The server's group commit: a write lock held by the worker process never stops the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bot.jobs import JobStore, NewJob
from bot.server import GroupCommit


async def test_locked_database_is_retried_without_blocking(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3", wait=False)
    other = sqlite3.connect(tmp_path / "jobs.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the worker process holds the write lock
    commits = GroupCommit(store)
    first = asyncio.create_task(commits.add(NewJob("d1", "s", "command", "{}")))
    second = asyncio.create_task(commits.add(NewJob("d2", "s", "command", "{}")))
    ticks = 0
    for _ in range(20):
        await asyncio.sleep(0.005)
        ticks += 1
    assert ticks == 20 and not first.done() and not second.done()  # the loop kept running
    other.execute("COMMIT")
    assert await asyncio.wait_for(asyncio.gather(first, second), 5) == [1, 2]
    assert [job.delivery for job in store.jobs()] == ["d1", "d2"]


async def test_redelivery_in_the_same_burst(tmp_path: Path) -> None:
    commits = GroupCommit(JobStore(tmp_path / "jobs.sqlite3", wait=False))
    ids = await asyncio.gather(*(commits.add(NewJob("same", "s", "command", "{}")) for _ in range(3)))
    assert ids == [1, None, None]
