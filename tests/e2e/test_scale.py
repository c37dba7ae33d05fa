"""Scaled out on PostgreSQL: two `serve` replicas and three workers, with a worker, a replica and the
database itself going away mid-run; every delivery makes one job and every pull request ends as in a
calm run, nothing pushed or posted twice."""

from __future__ import annotations

import json
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.e2e.crashes import state_of
from tests.e2e.harness import ServerProcess, WorkerCommand, until
from tests.e2e.test_bot_pulls import MANIFEST, pull_event, uv_lock
from tests.fakegithub.holds import Hold
from tests.fakegithub.loopback import running_fake
from tests.fakegithub.server import FakeGitHub, Repo
from tests.support.gitrepos import branch_log, commit_all, with_bare
from tests.support.postgres import Cluster, running_cluster
from tests.support.repos import git, lock
from tests.support.wheels import WheelSpec, build_wheelhouse

pytestmark = pytest.mark.slow
PULLS = (2, 3, 4)  # delivered in the burst
LATE = 5  # delivered while the database is down: refused with 503, then redelivered
LEASE = 8.0  # seconds: how long a killed worker's job waits for another worker
JOB_TIMEOUT = 300.0  # every job done: generous, other test suites share this 2-core machine


def branch(number: int) -> str:
    return f"renovate/alpha-{number}"


def renovate_pulls(tmp: Path, numbers: list[int]) -> tuple[Repo, str]:
    """One repository, and per number a Renovate branch that updated alpha in uv.lock only."""
    work = tmp / "svc"
    (work / "wheelhouse").mkdir(parents=True)
    build_wheelhouse([WheelSpec("alpha", "1.0"), WheelSpec("beta", "1.0")], work / "wheelhouse")
    (work / "pyproject.toml").write_text(MANIFEST.format(extra=""))
    (work / "pyproject.vllm.toml").write_text(MANIFEST.format(extra='\n    "beta==1.0",'))
    lock(work)
    lock(work, "pyproject.vllm.toml", "uv.vllm.lock")
    git(work, "init", "-q", "-b", "main")
    commit_all(work, "initial")
    build_wheelhouse([WheelSpec("alpha", "1.1")], work / "wheelhouse")
    base = commit_all(work, "wheelhouse: alpha 1.1")
    git(work, "checkout", "-q", "-b", "upgraded")
    uv_lock(work, "--upgrade-package", "alpha")
    upgraded = (work / "uv.lock").read_text()
    for number in numbers:
        git(work, "checkout", "-q", "-b", branch(number), base)
        (work / "uv.lock").write_text(upgraded)
        (work / f"NOTES-{number}.md").write_text(f"pull request {number}\n")  # a head of its own
        commit_all(work, "chore(deps): update dependency alpha to v1.1")
    git(work, "checkout", "-q", "main")
    return Repo("Codertocat/Hello-World", with_bare(work, tmp, "svc")), base


def prepared(fake: FakeGitHub, tmp: Path) -> dict[int, tuple[str, dict[str, Any]]]:
    """The repository and its pull requests on the fake; each pull request's delivery (id, payload)."""
    numbers = [*PULLS, LATE]
    repo, base = renovate_pulls(tmp, numbers)
    fake.repos[repo.full_name] = repo
    deliveries = {}
    for number in numbers:
        fake.add_pull(repo.full_name, number, head=branch(number), base="main", author="renovate[bot]")
        data = pull_event("pull_request.opened", repo, base, sender="renovate[bot]", branch=branch(number))
        data["number"] = data["pull_request"]["number"] = number
        data["pull_request"]["title"] = "chore(deps): update dependency alpha to v1.1"
        deliveries[number] = (f"pull-{number}", data)
    return deliveries


def final(fake: FakeGitHub) -> dict[str, Any]:
    return state_of(fake, fake.repos["Codertocat/Hello-World"], [branch(n) for n in [*PULLS, LATE]])


async def calm_run(tmp: Path) -> dict[str, Any]:
    """The same deliveries, once each, to one server on SQLite with nothing going wrong."""
    async with running_fake() as fake:
        deliveries = prepared(fake, tmp)
        server = ServerProcess(api_url=fake.url, tmp=tmp)
        await server.start()
        try:
            for delivery, data in deliveries.values():
                assert (await server.deliver("pull_request", data, delivery=delivery))[0] == 202
            await server.idle(JOB_TIMEOUT)
        finally:
            await server.stop()
        return final(fake)


def jobs(url: str) -> list[tuple[str, str, int]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT delivery, state, attempts FROM jobs ORDER BY id").fetchall()
    return [(str(d), str(s), int(a)) for d, s, a in rows]


def owner_of_check_run(url: str, check_run_id: int) -> int:
    """The pid of the worker process holding the job of check run `check_run_id`."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT j.lease_owner FROM check_runs AS c JOIN jobs AS j ON j.id = c.job_id"
            " WHERE c.check_run_id = %s AND j.state = 'running'",
            (check_run_id,),
        ).fetchone()
    assert row is not None and row[0], f"no running job holds check run {check_run_id}"
    return int(str(row[0]).split(":")[1])


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    with running_cluster() as started:  # its own: this test restarts it
        yield started


@dataclass
class Deployment:
    """Two replicas and three workers on one database, and the fake GitHub they serve."""

    fake: FakeGitHub
    cluster: Cluster
    url: str
    deliveries: dict[int, tuple[str, dict[str, Any]]]
    replicas: list[ServerProcess] = field(default_factory=list)
    workers: list[WorkerCommand] = field(default_factory=list)

    async def deliver(self, replica: int, number: int) -> tuple[int, dict[str, Any]]:
        delivery, data = self.deliveries[number]
        return await self.replicas[replica].deliver("pull_request", data, delivery=delivery)

    async def burst(self) -> None:
        """Each pull request's delivery to one replica, and again (a redelivery) to the other."""
        for number in PULLS:
            first, again = (0, 1) if number % 2 else (1, 0)
            status, body = await self.deliver(first, number)
            assert status == 202 and len(body["jobs"]) == 1
            assert await self.deliver(again, number) == (202, {"jobs": [], "redelivery": True})

    async def kill_mid_job(self, held: Hold) -> None:
        """SIGKILL the worker whose job sent the held progress update, and a replica."""
        await until(held.arrived.is_set, timeout=JOB_TIMEOUT, what="a first progress update")
        updates = [
            path for method, path, _ in self.fake.requests if method == "PATCH" and "/check-runs/" in path
        ]
        pid = owner_of_check_run(self.url, int(updates[0].rsplit("/", 1)[1]))  # the hold took the first
        [killed] = [worker for worker in self.workers if worker.process and worker.process.pid == pid]
        await killed.kill()  # its lease runs out, another worker takes the job
        await self.replicas[0].kill()  # the balancer sends everything to the other replica
        assert (await self.deliver(1, PULLS[0]))[1]["redelivery"] is True
        held.release()

    async def restart_mid_job(self, held: Hold) -> None:
        """Stop the database while a job is held mid-run; a delivery meanwhile is refused, then redone."""
        await until(held.arrived.is_set, timeout=JOB_TIMEOUT, what="another job's progress update")
        self.cluster.stop()  # and with it every connection
        status, _ = await self.deliver(1, LATE)
        assert status == 503  # not stored, so not acknowledged: GitHub lets the operator redeliver
        assert await self.replicas[1].health_status() == 503  # and says so to the load balancer
        self.cluster.start()
        held.release()  # that job goes on, on a connection the restart closed
        status, body = await self.deliver(1, LATE)
        assert status == 202 and len(body["jobs"]) == 1

    async def settle(self) -> None:
        def settled() -> bool:
            return all(state in ("done", "failed", "superseded") for _, state, _ in jobs(self.url))

        await until(settled, timeout=JOB_TIMEOUT, what="every job to finish")
        for worker in self.workers:
            if worker.process is not None and worker.process.returncode is None:
                await worker.stop()
                assert worker.process.returncode == 0  # drained: SIGTERM lets it finish and exit

    async def remove(self) -> None:
        for replica in self.replicas:
            await replica.stop()
        for worker in self.workers:
            if worker.process is not None and worker.process.returncode is None:
                worker.process.send_signal(signal.SIGKILL)
                await worker.process.wait()


async def deployed(fake: FakeGitHub, cluster: Cluster, tmp: Path) -> Deployment:
    url = cluster.create_database()
    scaled = Deployment(fake, cluster, url, prepared(fake, tmp))
    for n in (1, 2):  # the first creates the schema, the second finds it made
        scaled.replicas.append(ServerProcess(api_url=fake.url, tmp=tmp, db=url, name=f"replica-{n}"))
        await scaled.replicas[-1].start()
    for n in (1, 2, 3):
        scaled.workers.append(
            WorkerCommand(api_url=fake.url, tmp=tmp, db=url, name=f"worker-{n}", lease=LEASE)
        )
        await scaled.workers[-1].start("--concurrency", "1")
    return scaled


async def test_replicas_and_workers_on_postgresql_survive_kills_and_a_restart(
    fake: FakeGitHub, cluster: Cluster, tmp_path: Path
) -> None:
    calm = await calm_run(tmp_path / "calm")
    scaled = await deployed(fake, cluster, tmp_path)
    try:
        # The first two progress updates are held: a job to kill its worker in, and a job that is
        # mid-run while the database restarts.
        killing = fake.holds.add(Hold("checks/update", after=False, when=lambda body: True))
        restarting = fake.holds.add(Hold("checks/update", after=False, when=lambda body: True))
        await scaled.burst()
        await scaled.kill_mid_job(killing)
        await scaled.restart_mid_job(restarting)
        await scaled.settle()
    finally:
        await scaled.remove()
    logs = "".join(worker.log.read_text() for worker in scaled.workers)
    assert "lease ran out; queued again" in logs  # the killed worker's job went to another
    made = jobs(scaled.url)
    assert sorted(delivery for delivery, _, _ in made) == sorted(d for d, _ in scaled.deliveries.values())
    assert {state for _, state, _ in made} == {"done"}, made
    assert max(attempts for _, _, attempts in made) >= 2  # the killed worker's job ran again
    for number in [*PULLS, LATE]:
        log = branch_log(fake.repos["Codertocat/Hello-World"].bare, branch(number))
        assert len(set(log)) == len(log), f"pull request {number}: a commit was pushed twice"
    state = final(fake)
    if state != calm:  # kept for whoever reads the failure
        (tmp_path / "calm.json").write_text(json.dumps(calm, indent=1, default=str))
        (tmp_path / "faulty.json").write_text(json.dumps(state, indent=1, default=str))
    for key in calm:  # one by one, so a difference shows what differs
        assert state[key] == calm[key], key
