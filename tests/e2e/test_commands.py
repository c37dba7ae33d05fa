"""End to end through the real server: `/upgrade-deps` on issues and pull requests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.commands import (
    BRANCH,
    BREAKING,
    ENGINE,
    REQUEST,
    annotated,
    issue_comment,
    origin,
    pr_comment,
    pushed_once,
    run_id,
    same_repo_pull,
)
from tests.e2e.harness import ServerProcess
from tests.fakegithub.server import FakeGitHub, Repo
from tests.support.gitrepos import branch_log, show
from tests.support.repos import git
from tests.support.webhooks import payload

pytestmark = pytest.mark.slow


async def test_issue_comment_opens_a_pull_request_with_pushed_commits(
    fake: FakeGitHub, server: ServerProcess, tmp_path: Path
) -> None:
    repo = origin(fake, tmp_path)
    fake.roles["Codertocat"] = "write"
    status, answer = await server.deliver("issue_comment", issue_comment(repo, f"/upgrade-deps {REQUEST}"))
    assert status == 202 and len(answer["jobs"]) == 1
    await server.idle()

    log = branch_log(repo.bare, BRANCH)
    assert pushed_once(log)
    assert {author for author, _ in log} == {"upgrade-deps[bot]"}
    assert '"sglang==0.5.10"' in show(repo.bare, BRANCH, "pyproject.toml")
    assert 'name = "transformers"\nversion = "4.57.1"' in show(repo.bare, BRANCH, "uv.vllm.lock")

    [pull] = [p for p in fake.pulls.values()]
    assert pull["head"]["ref"] == BRANCH and pull["base"]["ref"] == "main"
    assert "## Dependency Upgrade Summary" in pull["body"] and "Upgrade sglang==0.5.10" in pull["title"]
    assert fake.reactions == [{"comment_id": 492700400, "content": "eyes"}]
    [run] = fake.check_runs.values()
    assert run["head_sha"] == repo.ref(BRANCH) and run["name"] == "upgrade-deps"
    assert run["status"] == "completed" and run["conclusion"] == "failure"
    assert run["output"]["title"] == "Upgrade landed; breaking call sites found"
    assert annotated(run) == [BREAKING]  # the audit's finding; main's engine.py is not in a PR diff here
    assert fake.reviews == []
    [reply] = fake.comments_on(1)
    assert pull["html_url"] in reply["body"]

    # The same command again: nothing new to push, and the reply points at the open PR.
    await server.deliver("issue_comment", issue_comment(repo, f"/upgrade-deps {REQUEST}"))
    await server.idle()
    assert len(fake.pulls) == 1 and branch_log(repo.bare, BRANCH) == log
    again = fake.comments_on(1)[-1]
    assert "nothing new to push" in again["body"] and pull["html_url"] in again["body"]


async def test_pr_comment_pushes_to_the_pull_request_branch(
    fake: FakeGitHub, server: ServerProcess, tmp_path: Path
) -> None:
    repo = same_repo_pull(fake, tmp_path, role="maintain", touch_engine=True)
    old_head = repo.ref("feature")
    status, _ = await server.deliver("issue_comment", pr_comment(repo, f"/upgrade-deps {REQUEST}", 1))
    assert status == 202
    await server.idle()

    assert pushed_once(branch_log(repo.bare, "feature")[:-1])
    new_head = repo.ref("feature")
    runs = {run["head_sha"]: run for run in fake.check_runs.values()}
    assert runs[old_head]["conclusion"] == "neutral"  # superseded by the pushed commits
    assert runs[new_head]["conclusion"] == "failure" and annotated(runs[new_head]) == [BREAKING]
    # The broken line is part of this PR's diff: one review, one comment on it.
    [review] = fake.reviews
    assert review["event"] == "COMMENT" and review["commit_id"] == new_head
    assert [(c["path"], c["line"], c["side"]) for c in review["comments"]] == [(ENGINE, 5, "RIGHT")]
    assert "no longer accepts the keyword `tp_size`" in review["comments"][0]["body"]  # neutralised text
    assert runs[old_head]["history"][0].startswith("Running:")
    [summary] = [c for c in fake.comments_on(1) if "<!-- upgrade-deps:summary -->" in c["body"]]
    assert "sglang" in summary["body"]

    # Re-run on the check run: runs again on the current head and edits the summary in place.
    rerun = payload("check_run.rerequested")
    rerun["repository"].update(clone_url=repo.clone_url, full_name=repo.full_name)
    rerun["check_run"].update(id=run_id(fake, new_head), head_sha=new_head, pull_requests=[{"number": 1}])
    rerun["check_run"]["app"]["id"] = 4242
    status, _ = await server.deliver("check_run", rerun)
    assert status == 202
    await server.idle()
    newest = max(fake.check_runs.values(), key=lambda run: run["id"])
    assert newest["head_sha"] == new_head and newest["conclusion"] == "neutral"  # nothing left to do
    assert len([c for c in fake.comments_on(1) if "upgrade-deps:summary" in c["body"]]) == 1
    assert fake.comments[summary["id"]].get("edits", 0) >= 1
    assert repo.ref("feature") == new_head
    assert len(fake.reviews) == 1  # the finding is not commented twice

    # Re-run all checks (check_suite): found through the head the earlier jobs checked.
    suite = payload("check_suite.rerequested")
    suite["repository"].update(clone_url=repo.clone_url, full_name=repo.full_name, default_branch="main")
    suite["check_suite"].update(head_sha=new_head, head_branch="feature", pull_requests=[{"number": 1}])
    suite["check_suite"]["app"]["id"] = 4242
    before = len(fake.check_runs)
    assert (await server.deliver("check_suite", suite))[0] == 202
    await server.idle()
    assert len(fake.check_runs) == before + 1
    assert max(fake.check_runs.values(), key=lambda run: run["id"])["conclusion"] == "neutral"


async def test_commenter_without_write_access_is_refused(
    fake: FakeGitHub, server: ServerProcess, tmp_path: Path
) -> None:
    repo = origin(fake, tmp_path)
    fake.roles["Codertocat"] = "triage"
    await server.deliver("issue_comment", issue_comment(repo, f"/upgrade-deps {REQUEST}"))
    await server.idle()
    [reply] = fake.comments_on(1)
    assert "write, maintain or admin" in reply["body"] and "`triage`" in reply["body"]
    assert fake.reactions == [] and fake.pulls == {} and fake.check_runs == {}
    assert repo.ref(BRANCH) is None


async def test_help_and_malformed_commands_get_usage(
    fake: FakeGitHub, server: ServerProcess, tmp_path: Path
) -> None:
    repo = origin(fake, tmp_path)
    fake.roles["Codertocat"] = "admin"
    await server.deliver("issue_comment", issue_comment(repo, "/upgrade-deps help"))
    await server.deliver("issue_comment", issue_comment(repo, "/upgrade-deps sglang=0.5.10"))
    await server.idle()
    help_reply, malformed = fake.comments_on(1)
    assert "Usage:" in help_reply["body"] and "On an issue" in help_reply["body"]
    assert "argument 1 (`sglang=0.5.10`): expected `pkg==version`" in malformed["body"]
    assert fake.pulls == {}


async def test_bot_comments_and_plain_comments_make_no_job(
    fake: FakeGitHub, server: ServerProcess, tmp_path: Path
) -> None:
    repo = origin(fake, tmp_path)
    from_bot = issue_comment(repo, f"/upgrade-deps {REQUEST}", user="upgrade-deps[bot]")
    from_bot["comment"]["user"]["type"] = "Bot"
    assert (await server.deliver("issue_comment", from_bot))[0] == 200
    assert (await server.deliver("issue_comment", issue_comment(repo, "thanks!")))[0] == 200
    assert (await server.health())["jobs"] == {}


async def test_fork_pull_request_is_audited_never_pushed(
    fake: FakeGitHub, server: ServerProcess, tmp_path: Path
) -> None:
    repo = origin(fake, tmp_path, "all-contributors/all-contributors-bot")
    # A fork shares the base's history, as on GitHub (a separately built copy shares it only when both
    # initial commits happen to fall in the same second).
    fork_bare = tmp_path / "fork.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo.bare), str(fork_bare))
    fork = Repo("someone/all-contributors-bot", fork_bare)
    git(fork.bare, "branch", "patch-1", "main")
    fake.add_pull(repo.full_name, 1, head="patch-1", base="main", author="someone", head_repo=fork)
    fake.roles["jakebolam"] = "write"
    before = fork.ref("patch-1")
    await server.deliver("issue_comment", pr_comment(repo, f"/upgrade-deps {REQUEST}", 1))
    await server.idle()
    assert fork.ref("patch-1") == before and repo.ref("patch-1") is None
    [run] = fake.check_runs.values()
    assert run["head_sha"] == before and run["status"] == "completed"
    assert "from a fork" in run["output"]["summary"]
    [summary] = fake.comments_on(1)
    assert "only audited it" in summary["body"]


async def test_revert_undoes_only_the_apps_commits_as_new_commits(
    fake: FakeGitHub, server: ServerProcess, tmp_path: Path
) -> None:
    repo = same_repo_pull(fake, tmp_path, role="write", touch_engine=True)
    human_head = repo.ref("feature")
    assert (await server.deliver("issue_comment", pr_comment(repo, f"/upgrade-deps {REQUEST}", 1)))[0] == 202
    await server.idle()
    upgraded = repo.ref("feature")
    ours = [sha for sha, _ in [tuple(line.split(" ", 1)) for line in
            git(repo.bare, "log", "--format=%H %ae", f"{human_head}..feature").splitlines()]]  # fmt: skip
    assert len(ours) >= 2

    revert = pr_comment(repo, "/upgrade-deps revert", 1)
    revert["comment"]["id"] += 1
    assert (await server.deliver("issue_comment", revert))[0] == 202
    await server.idle()

    # New commits on top (no history rewritten), and the tree is the human's again.
    log = git(repo.bare, "log", "--format=%H %an %s", f"{upgraded}..feature").splitlines()
    assert len(log) == len(ours)
    assert all(" upgrade-deps[bot] Revert " in line for line in log)
    assert git(repo.bare, "merge-base", "--is-ancestor", upgraded, "feature") == ""
    assert git(repo.bare, "diff", human_head, "feature") == ""
    [reply] = [c for c in fake.comments_on(1) if "Reverted" in c["body"]]
    assert f"Reverted {len(ours)} commits of mine on `feature`" in reply["body"]
    assert "Pin sglang 0.5.10, transformers 4.57.1" in reply["body"]


async def test_revert_on_an_issue_or_a_fork_changes_nothing(
    fake: FakeGitHub, server: ServerProcess, tmp_path: Path
) -> None:
    repo = origin(fake, tmp_path)
    fake.roles["Codertocat"] = "write"
    before = git(repo.bare, "for-each-ref")
    assert (await server.deliver("issue_comment", issue_comment(repo, "/upgrade-deps revert")))[0] == 202
    await server.idle()
    assert git(repo.bare, "for-each-ref") == before
    assert any("revert works on a pull request I pushed to" in c["body"] for c in fake.comments.values())

    base = origin(fake, tmp_path / "base", "all-contributors/all-contributors-bot")  # as the payload says
    fork = origin(fake, tmp_path / "fork", "octocat/Hello-World")
    git(fork.bare, "branch", "feature", "main")
    fake.add_pull(base.full_name, 2, head="feature", base="main", author="octocat", head_repo=fork)
    fake.roles["jakebolam"] = "write"  # the commenter of the pull-request payload
    refs = git(fork.bare, "for-each-ref")
    assert (await server.deliver("issue_comment", pr_comment(base, "/upgrade-deps revert", 2)))[0] == 202
    await server.idle()
    assert git(fork.bare, "for-each-ref") == refs
    assert any("I never push to forks" in c["body"] for c in fake.comments_on(2))
