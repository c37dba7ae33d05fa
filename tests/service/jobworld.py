"""The job runner in-process: webhook payloads in, the fake GitHub's requests out, the pipeline injected.

Deliveries go through the real handlers into the real job store; the real worker pool claims and
runs them with the real JobRunner, GitHub client, clones and pushes (git on bare repositories). Only
the upgrade itself is a stand-in (`Upgrades`), so each case says what the pipeline answers.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gidgethub.sansio import Event

from bot.model import Commit, Finding, Request, UpgradeResult
from bot.pipeline.context import Progress, RunOptions, Runtime
from bot.service import jobspec
from bot.service.github import AppInfo, GitHub
from bot.service.job_runner import JobRunner
from bot.service.jobs import Job, JobStore
from bot.service.services import Services
from bot.service.worker import WorkerPool
from bot.tools.isolation import Isolation
from handlers import router
from handlers.intake import AppIdentity, Intake
from tests.fakegithub.loopback import APP_ID
from tests.fakegithub.server import FakeGitHub, Repo
from tests.support.gitrepos import bare_from
from tests.support.repos import GIT_ENV, git
from tests.support.webhooks import payload

APP = AppInfo(APP_ID, "upgrade-deps")
REPO = "Codertocat/Hello-World"
TOKEN_OP = "apps/create-installation-access-token"  # cached by the client: how often is not behaviour
UPGRADED = "upgraded.txt"  # the file the stand-in pipeline changes and commits


@dataclass
class Upgrades:
    """The pipeline as the case wants it: records each call, commits a change where it may."""

    outcome: str = "landed"
    commit: bool = True  # whether a run that may commit makes a commit
    findings: tuple[Finding, ...] = ()
    error: Exception | None = None  # raised instead of answering
    during: Callable[[int], Awaitable[None]] | None = None  # run at the n-th call, before answering
    calls: list[tuple[Request, RunOptions]] = field(default_factory=list)

    async def __call__(
        self,
        repo: Path,
        request: Request,
        *,
        runtime: Runtime,
        options: RunOptions,
        progress: Progress | None,
    ) -> UpgradeResult:
        self.calls.append((request, options))
        if self.during is not None:
            await self.during(len(self.calls))
        if self.error is not None:
            raise self.error
        commits: tuple[Commit, ...] = ()
        if options.commit and self.commit:
            (repo / UPGRADED).write_text(f"{request.raw} (run {len(self.calls)})\n")
            message = f"Pin {request.raw}"
            commits = (Commit(commit_as_the_clone(repo, message), message),)
        return UpgradeResult(request=request, outcome=self.outcome, date="2026-01-01", findings=self.findings,
                             commits=commits)  # fmt: skip


def commit_as_the_clone(repo: Path, message: str) -> str:
    """Commit everything as the clone's configured identity (the app's bot), as the pipeline does."""
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("GIT_AUTHOR", "GIT_COMMITTER"))
    }
    for args in (("add", "-A"), ("commit", "-q", "-m", message)):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    return git(repo, "rev-parse", "HEAD").strip()


@dataclass
class World:
    fake: FakeGitHub
    repo: Repo  # REPO on the fake: the bundled example, on main
    checkout: Path  # a work tree whose origin is the repository's bare remote
    store: JobStore
    upgrades: Upgrades
    pool: WorkerPool
    runner: JobRunner

    async def deliver(self, event: str, data: dict[str, Any]) -> list[int]:
        """The delivery through the handlers into the store, as the webhook endpoint does; the jobs' ids."""
        intake = Intake(AppIdentity(APP.id, APP.bot_login))
        delivery = str(uuid.uuid4())
        await router.dispatch(Event(data, event=event, delivery_id=delivery), intake)
        ids = []
        for index, spec in enumerate(intake.accepted):
            job_id = self.store.add(delivery=f"{delivery}/{index}", subject=jobspec.subject(spec),
                                    kind=jobspec.kind_of(spec), spec=jobspec.dumps(spec),
                                    coalesce=jobspec.coalesce_key(spec))  # fmt: skip
            assert job_id is not None
            ids.append(job_id)
        return ids

    async def work(self, *, now: float | None = None) -> list[Job]:
        """Run every job due at `now`, one at a time, as a worker of the pool would; the jobs run."""
        done = []
        while (job := await self.pool.run_once(now=now)) is not None:
            done.append(job)
        return done

    def job(self, job_id: int) -> Job:
        found = self.store.get(job_id)
        assert found is not None
        return found

    def operations(self, start: int = 0) -> list[str]:
        """The operation ids of GitHub's requests since `start`, in order (installation tokens left out)."""
        ops = []
        for method, path, _ in self.fake.requests[start:]:
            op = self.fake.spec.match(method, path)
            assert op is not None  # the fake refused it otherwise, and the test fails on that
            if op.operation_id != TOKEN_OP:
                ops.append(op.operation_id)
        return ops

    def bodies(self, operation: str) -> list[Any]:
        return [body for method, path, body in self.fake.requests
                if (op := self.fake.spec.match(method, path)) and op.operation_id == operation]  # fmt: skip

    def push_branch(
        self, branch: str, files: dict[str, str], *, start: str | None = None, by_the_app: bool = False
    ) -> str:
        """A commit on `branch` (from `start`, else its own head, else main) pushed to the remote, as a
        person pushes, or (`by_the_app`) as the app's own commits are authored."""
        if start is None:
            start = branch if self.repo.ref(branch) else "main"
        git(self.checkout, "fetch", "-q", "origin")
        git(self.checkout, "checkout", "-q", "-B", branch, f"origin/{start}")
        for name, text in files.items():
            (self.checkout / name).parent.mkdir(parents=True, exist_ok=True)
            (self.checkout / name).write_text(text)
        git(self.checkout, "add", "-A")
        author = {"GIT_AUTHOR_NAME": APP.bot_login, "GIT_AUTHOR_EMAIL": APP.bot_email} if by_the_app else {}
        subprocess.run(["git", "commit", "-q", "-m", f"Change {', '.join(files)}"], cwd=self.checkout,
                       env={**os.environ, **GIT_ENV, **author}, check=True)  # fmt: skip
        git(self.checkout, "push", "-q", "origin", f"HEAD:refs/heads/{branch}")
        return git(self.checkout, "rev-parse", "HEAD").strip()


async def make_world(
    fake: FakeGitHub, github: GitHub, tmp: Path, *, isolation: Isolation, upgrades: Upgrades | None = None
) -> World:
    work, bare = bare_from(tmp, "origin")
    git(work, "fetch", "-q", "origin")
    repo = Repo(REPO, bare)
    fake.repos[REPO] = repo
    store = JobStore(tmp / "jobs.sqlite3")
    upgrades = upgrades or Upgrades()
    runtime = Runtime(dict(os.environ), isolation)
    (tmp / "clones").mkdir()
    # git_host "": the repositories are file:// remotes, which the installation token may be sent to.
    services = Services(github=github, store=store, app=APP, upgrade=upgrades, runtime=runtime,
                        sandboxes=tmp / "clones", git_host="")  # fmt: skip
    runner = JobRunner(services)
    pool = WorkerPool(store, runner.run, size=1, on_failure=runner.failed)
    return World(fake, repo, work, store, upgrades, pool, runner)


def with_runtime(world: World, isolation: Isolation) -> World:
    """The same world whose jobs run repository code under `isolation` (e.g. refused)."""
    services = replace(world.runner.s, runtime=replace(world.runner.s.runtime, isolation=isolation))
    runner = JobRunner(services)
    pool = WorkerPool(world.store, runner.run, size=1, on_failure=runner.failed)
    return replace(world, runner=runner, pool=pool)


# Payloads: the real fixtures, pointed at the world's repository.
def issue_comment(world: World, body: str, *, user: str = "Codertocat", number: int = 1) -> dict[str, Any]:
    data = payload("issue_comment.created.with-installation")
    data["repository"].update(full_name=REPO, clone_url=world.repo.clone_url, default_branch="main")
    data["comment"].update(body=body)
    data["comment"]["user"]["login"] = user
    data["issue"]["number"] = number
    return data


def pull_comment(world: World, body: str, *, number: int, user: str = "Codertocat") -> dict[str, Any]:
    data = issue_comment(world, body, user=user, number=number)
    data["issue"]["pull_request"] = {"url": f"https://api.github.com/repos/{REPO}/pulls/{number}"}
    return data


def pull_opened(world: World, number: int, *, author: str) -> dict[str, Any]:
    """`pull_request` opened for the fake's pull request `number` (add it first)."""
    data = payload("pull_request.opened")
    pull = world.fake.pulls[(REPO, number)]
    data["repository"].update(full_name=REPO, clone_url=world.repo.clone_url, default_branch="main")
    data["number"] = number
    data["pull_request"].update(number=number, title=pull["title"], body=pull["body"])
    data["pull_request"]["user"].update(login=author, type="Bot" if author.endswith("[bot]") else "User")
    pull["head"]["sha"] = pull["_head_repo"].ref(pull["head"]["ref"])  # pushed to since it was added
    data["pull_request"]["head"].update(ref=pull["head"]["ref"], sha=pull["head"]["sha"])
    data["pull_request"]["head"]["repo"].update(pull["head"]["repo"])
    data["pull_request"]["base"].update(ref=pull["base"]["ref"], sha=pull["base"]["sha"])
    return data


def rerun_requested(world: World, run: dict[str, Any], *, number: int) -> dict[str, Any]:
    """The Re-run button on our check run `run` (as the fake holds it) of pull request `number`."""
    data = payload("check_run.rerequested")
    data["repository"].update(full_name=REPO, clone_url=world.repo.clone_url, default_branch="main")
    data["check_run"].update(
        id=run["id"], head_sha=run["head_sha"], app={**data["check_run"]["app"], "id": APP_ID}
    )
    data["check_run"]["pull_requests"] = [{**_pull_ref(number)}]
    return data


def _pull_ref(number: int) -> dict[str, Any]:
    suite = payload("check_suite.rerequested")["check_suite"]["pull_requests"][0]
    return {**suite, "number": number}
