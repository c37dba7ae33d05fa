"""End to end through the real server: redelivery, restarts, dead workers, moved branches, failure."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.e2e.commands import (
    REQUEST,
    issue_comment,
    origin,
    pr_comment,
    pushed_once,
    same_repo_pull,
)
from tests.e2e.harness import ServerProcess, until
from tests.fakegithub.server import FakeGitHub
from tests.support.gitrepos import branch_log
from tests.support.repos import git
from tests.support.webhooks import SECRET

pytestmark = pytest.mark.slow


async def test_redelivery_makes_one_job(fake: FakeGitHub, server: ServerProcess, tmp_path: Path) -> None:
    repo = origin(fake, tmp_path)
    fake.roles["Codertocat"] = "write"
    data = issue_comment(repo, f"/upgrade-deps {REQUEST}")
    first = await server.deliver("issue_comment", data, delivery="same-delivery")
    second = await server.deliver("issue_comment", data, delivery="same-delivery")
    assert first[0] == second[0] == 202
    assert len(first[1]["jobs"]) == 1 and second[1] == {"jobs": [], "redelivery": True}
    assert (await server.idle()) == {"done": 1}
    assert len(fake.pulls) == 1 and len(fake.comments_on(1)) == 1


async def test_killed_server_resumes_its_job_and_posts_once(
    fake: FakeGitHub, server: ServerProcess, tmp_path: Path
) -> None:
    repo = same_repo_pull(fake, tmp_path, role="write")
    release = fake.hold("checks/update")  # the first progress update: the job is mid-run
    await server.deliver("issue_comment", pr_comment(repo, f"/upgrade-deps {REQUEST}", 1))
    await until(fake.held["checks/update"].is_set, what="the job to reach its first progress update")
    await server.kill()
    release.set()
    await server.start()
    await server.idle()

    assert pushed_once(branch_log(repo.bare, "feature"))
    assert len(fake.reactions) == 1
    assert len(fake.check_runs) == 2  # the first head's run (reused after restart) and the pushed head's
    assert sorted(run["conclusion"] for run in fake.check_runs.values()) == ["failure", "neutral"]
    assert len(fake.comments_on(1)) == 1


async def test_upgrade_that_cannot_land_fails_the_check_and_pushes_nothing(
    fake: FakeGitHub, server: ServerProcess, tmp_path: Path
) -> None:
    repo = same_repo_pull(fake, tmp_path, role="admin")
    head = repo.ref("feature")
    await server.deliver("issue_comment", pr_comment(repo, "/upgrade-deps sglang==9.9.9", 1))
    await server.idle()
    assert repo.ref("feature") == head
    [run] = fake.check_runs.values()
    assert run["head_sha"] == head and run["conclusion"] == "failure"
    assert run["output"]["title"] == "Upgrade did not land"
    assert "sglang" in run["output"]["text"]
    [summary] = fake.comments_on(1)
    assert "<!-- upgrade-deps:summary -->" in summary["body"] and "did not land" in summary["body"]


async def test_worker_process_that_dies_is_replaced(
    fake: FakeGitHub, server: ServerProcess, tmp_path: Path
) -> None:
    assert server.process is not None
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
    [worker] = [
        pid for pid in children if "bot.service.workerproc" in Path(f"/proc/{pid}/cmdline").read_text()
    ]
    # The worker got its settings through the pipe: not in its environment, not on its command line
    # (and so neither do the git and uv it starts).
    seen = Path(f"/proc/{worker}/environ").read_bytes() + Path(f"/proc/{worker}/cmdline").read_bytes()
    assert b"PRIVATE KEY" not in seen and SECRET.encode() not in seen
    os.kill(int(worker), signal.SIGKILL)
    repo = origin(fake, tmp_path)
    fake.roles["Codertocat"] = "write"
    await server.deliver("issue_comment", issue_comment(repo, f"/upgrade-deps {REQUEST}"))
    assert (await server.idle()) == {"done": 1}
    assert len(fake.pulls) == 1


async def test_branch_that_moved_meanwhile_is_rerun_on_its_new_head(
    fake: FakeGitHub, server: ServerProcess, tmp_path: Path
) -> None:
    repo = same_repo_pull(fake, tmp_path, role="write")
    first_head = repo.ref("feature")
    release = fake.hold("checks/update")  # the job is mid-run when someone pushes
    await server.deliver("issue_comment", pr_comment(repo, f"/upgrade-deps {REQUEST}", 1))
    await until(fake.held["checks/update"].is_set, what="the job to reach its first progress update")
    someone = tmp_path / "someone"
    git(tmp_path, "clone", "-q", "--branch", "feature", str(repo.bare), str(someone))
    (someone / "NOTES.md").write_text("pushed while the bot worked\n")
    git(someone, "add", "NOTES.md")
    git(someone, "commit", "-q", "-m", "someone else's commit")
    git(someone, "push", "-q", "origin", "feature")
    moved = repo.ref("feature")
    release.set()
    await server.idle()

    log = branch_log(repo.bare, "feature")
    assert [subject for _, subject in log][-1] == "someone else's commit"  # kept, never overwritten
    assert (
        pushed_once(log[:-1]) and git(repo.bare, "merge-base", "--is-ancestor", moved or "", "feature") == ""
    )
    runs = {run["head_sha"]: run for run in fake.check_runs.values()}
    assert runs[first_head]["conclusion"] == "neutral" and runs[moved]["conclusion"] == "neutral"
    assert runs[repo.ref("feature")]["conclusion"] == "failure"  # landed, with the breaking call site


async def test_killed_job_leaves_no_clone_behind(
    fake: FakeGitHub, server: ServerProcess, tmp_path: Path
) -> None:
    repo = same_repo_pull(fake, tmp_path, role="write")
    release = fake.hold("checks/update")  # the first progress update: the job's clone is there
    await server.deliver("issue_comment", pr_comment(repo, f"/upgrade-deps {REQUEST}", 1))
    await until(fake.held["checks/update"].is_set, what="the job to reach its first progress update")
    [killed] = list(server.sandboxes.glob("worker-*"))
    [clone] = list(killed.glob("upgrade-deps-*"))
    assert (clone / "repo" / "pyproject.toml").is_file()
    await server.kill()
    release.set()
    assert clone.exists()  # nothing removed it: the worker process was killed
    await server.start()
    assert (await server.idle()) == {"done": 1}
    assert not killed.exists()
    [alive] = list(server.sandboxes.glob("worker-*"))  # the new worker process's, without a clone left
    assert [entry.name for entry in alive.iterdir()] == ["lock"]
    assert pushed_once(branch_log(repo.bare, "feature"))
