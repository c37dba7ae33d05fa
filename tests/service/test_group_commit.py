"""The server's group commit: a locked inbox never stops the event loop; bursts share a commit."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bot.service.group_commit import GroupCommit
from bot.service.inbox import Inbox, NewJob, inbox_path
from bot.service.jobs import JobStore


async def test_locked_database_is_retried_without_blocking(tmp_path: Path) -> None:
    db = tmp_path / "jobs.sqlite3"
    store = JobStore(db)
    other = sqlite3.connect(inbox_path(db), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # someone else holds the inbox's write lock
    commits = GroupCommit(Inbox(db))
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
    commits = GroupCommit(Inbox(tmp_path / "jobs.sqlite3"))
    ids = await asyncio.gather(*(commits.add(NewJob("same", "s", "command", "{}")) for _ in range(3)))
    assert ids == [1, None, None]


async def test_one_bad_row_never_fails_its_neighbours(tmp_path: Path) -> None:
    db = tmp_path / "jobs.sqlite3"
    store = JobStore(db)
    commits = GroupCommit(Inbox(db))
    good = [NewJob(f"d{i}", "s", "command", "{}") for i in range(3)]
    bad = NewJob("bad-\udcff", "s", "command", "{}")  # a string SQLite cannot encode, past the edge's checks
    results = await asyncio.gather(*(commits.add(job) for job in (good[0], bad, good[1], good[2])),
                                   return_exceptions=True)  # fmt: skip
    assert isinstance(results[1], UnicodeEncodeError)
    assert [results[0], results[2], results[3]] == [1, 2, 3]
    assert [job.delivery for job in store.jobs()] == ["d0", "d1", "d2"]
