"""Group commit: a locked inbox never stops the loop; bursts share a commit; a hung database: prompt 503s."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import aiohttp
import psycopg
import pytest

from bot.errors import StoreUnavailableError
from bot.service.group_commit import GroupCommit
from bot.service.inbox import Inbox, NewJob, inbox_path
from bot.service.jobs import JobStore
from bot.service.pgintake import PgIntake
from bot.service.server import Hooks, make_app
from handlers.intake import AppIdentity
from tests.support.http import serving
from tests.support.webhooks import SECRET, headers, payload


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


async def test_a_database_that_stops_answering_gets_prompt_503s_and_no_job_twice(pg_url: str) -> None:
    intake = PgIntake(pg_url)
    commits = GroupCommit(intake, wait=0.3)
    assert await commits.add(NewJob("before", "s", "command", "{}")) == 1
    with psycopg.connect(pg_url) as other:
        # Another session holds the table: the next INSERT waits, as on a database that hangs.
        other.execute("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE")
        loop = asyncio.get_running_loop()
        began = loop.time()
        with pytest.raises(StoreUnavailableError, match=r"did not commit within 0\.3 s"):
            await commits.add(NewJob("stuck", "s", "command", "{}"))
        assert 0.3 <= loop.time() - began < 1.0
        began = loop.time()
        with pytest.raises(StoreUnavailableError, match=r"has not answered for 0\.3 s"):
            await commits.add(NewJob("meanwhile", "s", "command", "{}"))
        assert loop.time() - began < 0.05  # refused at once, not queued behind the stuck write
        other.rollback()  # the lock goes; the stuck write commits after its request was answered 503
    # The operator redelivers both (again while refused): the one that landed late is a duplicate,
    # the other a new job.
    for _ in range(100):
        try:
            assert await commits.add(NewJob("stuck", "s", "command", "{}")) is None
            break
        except StoreUnavailableError:
            await asyncio.sleep(0.02)
    else:
        pytest.fail("the stuck write never came back")
    assert await commits.add(NewJob("meanwhile", "s", "command", "{}")) == 3
    assert intake.counts() == {"queued": 3}
    intake.close()


async def test_a_replica_whose_database_hangs_answers_503_to_deliveries_and_probes(pg_url: str) -> None:
    intake = PgIntake(pg_url)
    hooks = Hooks(SECRET, intake, AppIdentity(1, "upgrade-deps[bot]"), None, GroupCommit(intake, wait=0.3))
    command = payload("issue_comment.created.with-installation")
    command["comment"]["body"] = "/upgrade-deps sglang==0.5.10"
    body = json.dumps(command).encode()
    async with serving(make_app(hooks)) as url, aiohttp.ClientSession() as session:
        with psycopg.connect(pg_url) as other:
            other.execute("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE")
            loop = asyncio.get_running_loop()
            began = loop.time()
            async with session.get(f"{url}/healthz") as health:  # its count waits on the lock
                assert health.status == 503
                assert "did not answer within 0.3 s" in (await health.json())["error"]
            signed = headers("issue_comment", body)
            async with session.post(f"{url}/webhook", data=body, headers=signed) as got:
                assert got.status == 503
            assert loop.time() - began < 1.5  # neither waited for the database
            began = loop.time()
            async with session.get(f"{url}/healthz") as health:  # a write is stuck: no query at all
                assert health.status == 503
                assert "has not answered for 0.3 s" in (await health.json())["error"]
            assert loop.time() - began < 0.2
            other.rollback()
    intake.close()
