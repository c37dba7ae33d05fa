"""What the crash-window tests share: scenarios, a push hook that holds, the final state compared."""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.commands import REQUEST, issue_comment, origin, pr_comment, same_repo_pull
from tests.e2e.harness import ServerProcess, alive, until
from tests.fakegithub.loopback import running_fake
from tests.fakegithub.server import FakeGitHub, Repo
from tests.support.gitrepos import branch_log
from tests.support.repos import git

JOB_TIMEOUT = 240.0  # generous: other test suites share this 2-core machine
BREAKING_CALLS = 60  # with engine.py's, 61 annotations: two calls of at most 50


@dataclass(frozen=True)
class Scenario:
    """A job under test: how its repository is prepared (earlier jobs included) and its delivery."""

    name: str
    branch: str  # where the job pushes
    number: int  # the issue or pull request commented on
    prepare: Callable[[FakeGitHub, ServerProcess, Path], Awaitable[Repo]]
    delivery: Callable[[Repo], tuple[str, dict[str, Any]]]


async def _pull_request(fake: FakeGitHub, server: ServerProcess, tmp: Path) -> Repo:
    return same_repo_pull(fake, tmp, role="write", touch_engine=True, breaking_calls=BREAKING_CALLS)


async def _issue(fake: FakeGitHub, server: ServerProcess, tmp: Path) -> Repo:
    fake.roles["Codertocat"] = "write"
    return origin(fake, tmp)


async def _upgraded_pull_request(fake: FakeGitHub, server: ServerProcess, tmp: Path) -> Repo:
    repo = same_repo_pull(fake, tmp, role="write", touch_engine=True)
    await server.deliver("issue_comment", pr_comment(repo, f"/upgrade-deps {REQUEST}", 1), delivery="upgrade")
    await server.idle(JOB_TIMEOUT)
    return repo


def _revert(repo: Repo) -> tuple[str, dict[str, Any]]:
    data = pr_comment(repo, "/upgrade-deps revert", 1)
    data["comment"]["id"] += 1
    return "issue_comment", data


PULL = Scenario("pull", "feature", 1, _pull_request,
                lambda repo: ("issue_comment", pr_comment(repo, f"/upgrade-deps {REQUEST}", 1)))  # fmt: skip
ISSUE = Scenario("issue", "upgrade-deps/sglang-0.5.10-transformers-4.57.1", 1, _issue,
                 lambda repo: ("issue_comment", issue_comment(repo, f"/upgrade-deps {REQUEST}")))  # fmt: skip
REVERT = Scenario("revert", "feature", 1, _upgraded_pull_request, _revert)


async def start(scenario: Scenario, fake: FakeGitHub, server: ServerProcess, tmp: Path) -> Repo:
    """Prepare the scenario's repository (running its earlier jobs) and deliver the job under test."""
    repo = await scenario.prepare(fake, server, tmp)
    event, data = scenario.delivery(repo)
    # The same delivery id in every run: the job's external id, and so its hidden markers, match.
    status, _ = await server.deliver(event, data, delivery=f"under-test-{scenario.name}")
    assert status == 202
    return repo


_SHA = re.compile(r"\b[0-9a-f]{12,40}\b")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _text(value: Any) -> str:
    """Commit ids and dates differ between two runs of the same job; nothing else may."""
    return _DATE.sub("<date>", _SHA.sub("<sha>", str(value or "")))


def final_state(fake: FakeGitHub, repo: Repo, scenario: Scenario) -> dict[str, Any]:
    """Everything a person sees of the job on GitHub and in the repository, comparable across runs."""
    state = state_of(fake, repo, [scenario.branch])
    return {**state, "commits": state["commits"][scenario.branch]}


def state_of(fake: FakeGitHub, repo: Repo, branches: list[str]) -> dict[str, Any]:
    """What a person sees on GitHub and on `branches` of the repository, comparable across runs."""

    def head(sha: str) -> str:  # a head by its commit's subject: shas differ between runs
        return git(repo.bare, "log", "-1", "--format=%s", sha).strip()

    keys = ("path", "start_line", "end_line", "annotation_level", "title", "message")
    runs = [
        (head(run["head_sha"]), run["name"], run.get("status"), run.get("conclusion"),
         _text(run["output"].get("title")), _text(run["output"].get("summary")),
         _text(run["output"].get("text")), [tuple(note.get(k) for k in keys) for note in run["annotations"]])
        for run in fake.check_runs.values()
    ]  # fmt: skip
    reviewed = [(c["path"], c["line"], c["side"], c["body"]) for r in fake.reviews for c in r["comments"]]
    pulls = [(number, p["head"]["ref"], p["base"]["ref"], p["title"], _text(p["body"]))
             for (_, number), p in fake.pulls.items()]  # fmt: skip
    return {
        "commits": {branch: branch_log(repo.bare, branch) for branch in branches},
        "check runs": sorted(runs, key=repr),
        "comments": sorted((c["_number"], _text(c["body"])) for c in fake.comments.values()),
        "review comments": reviewed,
        "reactions": fake.reactions,
        "pulls": sorted(pulls),
    }


async def uninterrupted(scenario: Scenario, tmp: Path) -> dict[str, Any]:
    """The final state of the scenario's job run without a crash, on a fresh remote and fake GitHub."""
    async with running_fake() as fake:
        server = ServerProcess(api_url=fake.url, tmp=tmp)
        try:
            await server.start()
            repo = await start(scenario, fake, server, tmp)
            await server.idle(JOB_TIMEOUT)
            state = final_state(fake, repo, scenario)
        finally:
            await server.stop()
    return state


class PushHook:
    """A post-receive hook in a bare remote: it runs after the branch moved and before `git push`
    returns; armed, it signals the test and blocks until released (once)."""

    def __init__(self, repo: Repo, tmp: Path) -> None:
        self.dir = tmp / "push-hook"
        self.dir.mkdir()
        os.mkfifo(self.dir / "release")
        (self.dir / "armed").touch()
        hook = repo.bare / "hooks" / "post-receive"
        hook.write_text(
            "#!/bin/sh\n"
            f'cd "{self.dir}" || exit 0\n'
            # `arrived` holds the hook's pid, written whole before the test can see it.
            "if rm armed 2>/dev/null; then\n"
            "  echo $$ >arrived.new && mv arrived.new arrived && cat release >/dev/null\n"
            "fi\n"
        )
        hook.chmod(0o755)

    async def arrived(self) -> None:
        await until((self.dir / "arrived").exists, timeout=JOB_TIMEOUT, what="the push to reach the remote")

    def _released(self) -> bool:
        # A FIFO opens for writing (without blocking) only once the hook's `cat` reads it; closing it
        # then ends the `cat`, and the hook. The crash may also take the hook with it before its `cat`
        # starts (it runs under the killed server's `git push`): then there is nothing left to release.
        try:
            fd = os.open(self.dir / "release", os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                return not alive(int((self.dir / "arrived").read_text()))
            raise
        os.close(fd)
        return True

    async def release(self) -> None:
        await until(self._released, timeout=JOB_TIMEOUT, what="the push hook to wait for its release")


async def crash_and_restart(server: ServerProcess, arrived: Awaitable[None],
                            release: Callable[[], Awaitable[None] | None]) -> None:  # fmt: skip
    """Wait for the held effect, kill the server there, let the effect finish, restart, wait for the jobs."""
    await arrived
    await server.kill()
    released = release()
    if released is not None:
        await released
    await server.start()
    await server.idle(JOB_TIMEOUT)
