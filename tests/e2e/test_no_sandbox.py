"""Where bubblewrap does not work: the service runs no repository code, unless told to take the risk."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.commands import REQUEST, pr_comment, pushed_once, same_repo_pull
from tests.e2e.harness import ServerProcess
from tests.e2e.test_bot_pulls import BRANCH, pull_event, renovate_repo
from tests.fakegithub.server import FakeGitHub
from tests.support.gitrepos import branch_log

pytestmark = pytest.mark.slow


async def _server(fake: FakeGitHub, tmp: Path, **settings: str) -> AsyncIterator[ServerProcess]:
    process = ServerProcess(api_url=fake.url, tmp=tmp)
    process.env.update({"UPGRADE_DEPS_BWRAP": str(tmp / "no-bwrap-here"), **settings})
    await process.start()
    yield process
    await process.stop()


@pytest.fixture
async def unsandboxed(fake: FakeGitHub, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    async for process in _server(fake, tmp_path):
        yield process


@pytest.fixture
async def opted_out(fake: FakeGitHub, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    async for process in _server(fake, tmp_path, UPGRADE_DEPS_UNSAFE_UNSANDBOXED_REPOSITORY_CODE="1"):
        yield process


async def test_the_check_run_says_the_upgrade_needs_a_sandbox(
    fake: FakeGitHub, unsandboxed: ServerProcess, tmp_path: Path
) -> None:
    repo = same_repo_pull(fake, tmp_path, role="write")
    head = repo.ref("feature")
    await unsandboxed.deliver("issue_comment", pr_comment(repo, f"/upgrade-deps {REQUEST}", 1))
    await unsandboxed.idle()
    assert repo.ref("feature") == head  # nothing ran, nothing pushed
    [run] = fake.check_runs.values()
    assert run["status"] == "completed" and run["conclusion"] == "action_required"
    text = run["output"]["summary"] + run["output"].get("text", "")
    assert "needs a sandbox to run the repository's code" in text
    assert "bubblewrap (bwrap) is not installed" in text
    [summary] = fake.comments_on(1)
    assert "needs a sandbox" in summary["body"]
    assert "repository code runs refused" in unsandboxed.log.read_text()


async def test_an_operator_can_take_the_risk_explicitly(
    fake: FakeGitHub, opted_out: ServerProcess, tmp_path: Path
) -> None:
    repo = same_repo_pull(fake, tmp_path, role="write")
    await opted_out.deliver("issue_comment", pr_comment(repo, f"/upgrade-deps {REQUEST}", 1))
    await opted_out.idle()
    assert pushed_once(branch_log(repo.bare, "feature")[:-1])
    assert "repository code runs unsandboxed" in opted_out.log.read_text()


async def test_a_bot_pull_requests_own_lock_changes_are_still_audited(
    fake: FakeGitHub, unsandboxed: ServerProcess, tmp_path: Path
) -> None:
    repo, base = renovate_repo(tmp_path)
    fake.repos[repo.full_name] = repo
    fake.add_pull(repo.full_name, 2, head=BRANCH, base="main", author="renovate[bot]")
    head = repo.ref(BRANCH)
    await unsandboxed.deliver(
        "pull_request", pull_event("pull_request.opened", repo, base, sender="renovate[bot]")
    )
    await unsandboxed.idle()
    assert repo.ref(BRANCH) == head  # the other variant is not re-locked: that would run uv
    [run] = fake.check_runs.values()
    assert run["conclusion"] == "action_required"
    [summary] = fake.comments_on(2)
    body = summary["body"]
    assert "needs a sandbox" in body
    # What Renovate's own uv.lock changed, against the base, audited without running anything.
    assert "| alpha | 1.0 | 1.1 |" in body.replace("`", ""), body
    assert "### API Compatibility Audit\n\n_Not run" not in body
