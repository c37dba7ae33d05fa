"""End to end: a Dependabot pull request that moved one workspace member's pin, and left the root
lock stale, gets every other member's pin and the lock pushed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness import ServerProcess
from tests.e2e.test_bot_pulls import pull_event
from tests.fakegithub.server import FakeGitHub, Repo
from tests.support.gitrepos import commit_all, show, with_bare
from tests.support.repos import git
from tests.support.workspaces import build, check_lock, workspace_files

pytestmark = pytest.mark.slow
BRANCH = "dependabot/uv/transformers-4.57.1"
OLD, NEW = '"transformers==4.56.0"', '"transformers==4.57.1"'


def dependabot_workspace(tmp: Path) -> tuple[Repo, str]:
    files = workspace_files()
    files["packages/c/pyproject.toml"] = files["packages/c/pyproject.toml"].replace(">=4.56", "==4.56.0")
    work = build(tmp, files)
    base = git(work, "rev-parse", "HEAD").strip()
    git(work, "checkout", "-q", "-b", BRANCH)
    member = work / "packages/a/pyproject.toml"
    member.write_text(member.read_text().replace(OLD, NEW))  # one member, and no lock: uv sync --locked fails
    commit_all(work, "Bump transformers from 4.56.0 to 4.57.1 in /packages/a")
    return Repo("Codertocat/Hello-World", with_bare(work, tmp, "ws")), base


async def test_a_dependabot_member_bump_is_completed_across_the_workspace(
    fake: FakeGitHub, server: ServerProcess, tmp_path: Path
) -> None:
    repo, base = dependabot_workspace(tmp_path)
    fake.repos[repo.full_name] = repo
    fake.add_pull(repo.full_name, 2, head=BRANCH, base="main", author="dependabot[bot]")
    opened = pull_event("pull_request.opened", repo, base, sender="dependabot[bot]", branch=BRANCH)
    opened["pull_request"]["user"]["login"] = "dependabot[bot]"
    opened["pull_request"]["title"] = "Bump transformers from 4.56.0 to 4.57.1 in /packages/a"
    status, _ = await server.deliver("pull_request", opened)
    assert status == 202
    await server.idle()

    for name in "abc":
        assert NEW in show(repo.bare, BRANCH, f"packages/{name}/pyproject.toml"), name
    assert 'name = "transformers"\nversion = "4.57.1"' in show(repo.bare, BRANCH, "uv.lock")
    assert show(repo.bare, BRANCH, "packages/scratch/pyproject.toml").count(OLD) == 1  # excluded member
    checkout = tmp_path / "pushed"
    git(tmp_path, "clone", "-q", "-b", BRANCH, str(repo.bare), str(checkout))
    check_lock(checkout)
    head = repo.ref(BRANCH)
    [final] = [run for run in fake.check_runs.values() if run["head_sha"] == head]
    assert final["conclusion"] == "success", final["output"]
