"""`upgrade-deps worker --metrics-port`: a worker on its own machine exposes the counts of the jobs it ran."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.commands import issue_comment, origin
from tests.e2e.harness import ROOT, ServerProcess, WorkerCommand
from tests.e2e.test_operations import sample
from tests.fakegithub.server import FakeGitHub
from tests.support.http import free_port
from tests.support.measured import measured

pytestmark = pytest.mark.slow


async def test_a_worker_serves_the_metrics_of_its_own_jobs(
    fake: FakeGitHub, tmp_path: Path, pg_url: str
) -> None:
    repo = origin(fake, tmp_path)
    replica = ServerProcess(api_url=fake.url, tmp=tmp_path, db=pg_url, name="replica")
    worker = WorkerCommand(api_url=fake.url, tmp=tmp_path, db=pg_url, name="worker", lease=30)
    port = free_port()
    await replica.start()
    await worker.start("--metrics-port", str(port))
    try:
        status, _ = await replica.deliver("issue_comment", issue_comment(repo, "/upgrade-deps help"))
        assert status == 202
        await replica.idle()
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/metrics") as response,
        ):
            assert response.status == 200 and response.content_type == "text/plain"
            metrics = await response.text()
    finally:
        await worker.stop()
        await replica.stop()
    assert sample(metrics, "upgrade_deps_jobs_total", kind="command") == 1
    assert sample(metrics, "upgrade_deps_job_seconds_count", kind="command") == 1
    assert sample(metrics, "upgrade_deps_github_calls_total", method="POST") >= 1
    # The queue is the replicas' to report: summed over workers it would count each job again.
    assert "upgrade_deps_queue_depth" not in metrics
    assert worker.process is not None and worker.process.returncode == 0


async def test_a_worker_that_cannot_listen_for_its_metrics_says_so_and_takes_no_job(
    fake: FakeGitHub, tmp_path: Path, pg_url: str
) -> None:
    worker = WorkerCommand(api_url=fake.url, tmp=tmp_path, db=pg_url, name="worker", lease=30)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "worker", "--metrics-port", str(port),
            cwd=ROOT, env=measured(worker.env),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(done.communicate(), 120)
    assert done.returncode == 2
    assert f"upgrade-deps worker: --metrics-port: cannot listen on 127.0.0.1:{port}:" in err.decode()
    assert b"running up to" not in out
