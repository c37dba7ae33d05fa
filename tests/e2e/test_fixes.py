"""End to end through the real server: fixes pushed on a same-repository branch, suggested on a fork's."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.commands import ENGINE, REQUEST, origin, pr_comment, same_repo_pull
from tests.e2e.harness import ServerProcess
from tests.fakegithub.server import FakeGitHub, Repo
from tests.support.gitrepos import branch_log, show
from tests.support.repos import git

pytestmark = pytest.mark.slow


async def test_fixes_are_pushed_and_the_fixed_finding_is_not_commented(
    fake: FakeGitHub, server: ServerProcess, tmp_path: Path
) -> None:
    repo = same_repo_pull(fake, tmp_path, role="write", touch_engine=True, fixes=True)
    assert (await server.deliver("issue_comment", pr_comment(repo, f"/upgrade-deps {REQUEST}", 1)))[0] == 202
    await server.idle()
    subjects = [subject for _, subject in branch_log(repo.bare, "feature")]
    assert subjects[:2] == ["sglang: follow API moves in 0.5.10", "sglang: prune compat for 0.5.10"]
    assert "ServerArgs(model_path=model, tensor_parallel_size=4)" in show(repo.bare, "feature", ENGINE)
    run = max(fake.check_runs.values(), key=lambda run: run["id"])
    assert run["head_sha"] == repo.ref("feature") and run["conclusion"] == "success"
    assert "- Fixed: `sglang: follow API moves in 0.5.10` (1 rewrite(s))" in run["output"]["summary"]
    assert "### Mechanical Fixes" in run["output"]["text"]
    assert fake.reviews == []  # the one finding on the diff was fixed


async def test_a_forks_pull_request_gets_suggested_changes_once(
    fake: FakeGitHub, server: ServerProcess, tmp_path: Path
) -> None:
    repo = origin(fake, tmp_path, "all-contributors/all-contributors-bot", fixes=True)
    fork_bare = tmp_path / "fork.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo.bare), str(fork_bare))
    fork = Repo("someone/all-contributors-bot", fork_bare)
    work = tmp_path / "fork-work"
    git(tmp_path, "clone", "-q", str(fork_bare), str(work))
    git(work, "checkout", "-q", "-b", "patch-1")
    (work / ENGINE).write_text((work / ENGINE).read_text().replace("tp_size=2", "tp_size=4"))
    git(work, "commit", "-q", "-am", "Use four GPUs")
    git(work, "push", "-q", "origin", "patch-1")
    fake.add_pull(repo.full_name, 1, head="patch-1", base="main", author="someone", head_repo=fork)
    fake.roles["jakebolam"] = "write"
    before = fork.ref("patch-1")
    for comment_id in (1, 2):  # the same command twice: the suggestion is posted once
        comment = pr_comment(repo, f"/upgrade-deps {REQUEST}", 1)
        comment["comment"]["id"] += comment_id
        assert (await server.deliver("issue_comment", comment))[0] == 202
        await server.idle()
    assert fork.ref("patch-1") == before
    [review] = fake.reviews
    [suggestion] = review["comments"]
    assert (suggestion["path"], suggestion["line"]) == (ENGINE, 5)
    assert suggestion["body"].endswith(
        "```suggestion\n    return ServerArgs(model_path=model, tensor_parallel_size=4)\n```\n"
    )
    run = max(fake.check_runs.values(), key=lambda run: run["id"])
    assert "- Suggested changes: 3" in run["output"]["summary"]  # the shim, its stub list, the call
    assert "removed the fallback branch for `ServerArgs`" in run["output"]["text"]  # not on the diff
