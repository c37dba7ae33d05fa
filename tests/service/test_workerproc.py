"""The worker process: its loop run in-process, and the server's side that starts, wakes and restarts it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.service import jobspec
from bot.service.commands import Help
from bot.service.github import AppInfo
from bot.service.jobs import JobStore
from bot.service.jobspec import Command, JobTarget
from bot.service.workerproc import WorkerProcess, _settings, handover, run
from bot.settings import Settings, load_settings
from tests.fakegithub.loopback import APP_ID
from tests.fakegithub.server import FakeGitHub
from tests.support.appkeys import key_pair
from tests.support.webhooks import SECRET

APP = AppInfo(APP_ID, "upgrade-deps")


def settings_for(fake: FakeGitHub, tmp: Path) -> Settings:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp), "GITHUB_APP_ID": str(APP_ID),
           "GITHUB_PRIVATE_KEY": key_pair()[0], "GITHUB_WEBHOOK_SECRET": SECRET, "GITHUB_API_URL": fake.url,
           "UPGRADE_DEPS_DB": str(tmp / "jobs.sqlite3"), "UPGRADE_DEPS_WORKERS": "1",
           "UPGRADE_DEPS_SANDBOX_DIR": str(tmp / "sandboxes")}  # fmt: skip
    return load_settings(env)


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60  # a bound for a busy machine, not a timing expectation
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def add_help_command(store: JobStore) -> int:
    target = JobTarget(1, "o/r", "https://github.com/o/r.git", "main")
    spec = Command(target=target, number=3, is_pull=False, comment_id=9, author="someone", asked=Help(),
                   title="help")  # fmt: skip
    job_id = store.add(
        delivery="d-1", subject=jobspec.subject(spec), kind="command", spec=jobspec.dumps(spec)
    )
    assert job_id is not None
    return job_id


def test_the_handover_line_holds_the_settings_and_the_app(fake: FakeGitHub, tmp_path: Path) -> None:
    settings = settings_for(fake, tmp_path)
    line = handover(settings, APP)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert _settings(json.loads(line)) == (settings, APP)


async def test_the_loop_works_on_each_wakeup_until_its_input_closes(fake: FakeGitHub, tmp_path: Path) -> None:
    settings = settings_for(fake, tmp_path)
    fake.roles["someone"] = "write"
    store = JobStore(settings.db_path)
    wakeups = asyncio.StreamReader()
    worker = asyncio.create_task(run(settings, APP, wakeups))
    job_id = add_help_command(store)
    wakeups.feed_data(b"\n")
    await until(lambda: (job := store.get(job_id)) is not None and job.state == "done", "the job to be done")
    [reply] = fake.comments_on(3)
    assert "Usage:" in reply["body"]
    wakeups.feed_eof()  # the server closed the pipe
    await asyncio.wait_for(worker, 60)
    # Its own clone directory is released and gone; the root keeps only its lock file.
    assert [p.name for p in (tmp_path / "sandboxes").iterdir()] == [".lock"]


async def test_a_worker_process_that_dies_is_started_again(
    fake: FakeGitHub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(fake, tmp_path)
    JobStore(settings.db_path).close()
    workers = WorkerProcess(settings, APP)
    await workers.start()
    assert workers.process is not None
    first = workers.process
    first.send_signal(signal.SIGKILL)
    await until(lambda: workers.process is not first, "another worker process")
    assert "worker process exited with -9; starting another" in caplog.text
    store = JobStore(settings.db_path)
    job_id = add_help_command(store)
    workers.wake()  # the new one works
    await until(lambda: (job := store.get(job_id)) is not None and job.state == "done", "the job to be done")
    await workers.stop()
    assert workers.process is not None and workers.process.returncode == 0
