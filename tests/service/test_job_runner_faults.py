"""The job runner when things go wrong: superseded jobs, a branch that moves, GitHub failing, a job failing.

Each ends as an uninterrupted run would on GitHub: one pull request, one push of each commit, one
reply, every check run completed.
"""

from __future__ import annotations

import time
from pathlib import Path

from bot.errors import ToolError, TransientError
from bot.service.github import GitHub
from bot.service.worker import MAX_ATTEMPTS
from bot.tools.isolation import Isolation
from tests.fakegithub.server import FakeGitHub
from tests.service.jobworld import REPO, Upgrades, World, issue_comment, make_world, pull_comment, pull_opened
from tests.support.gitrepos import branch_log, show

REQUEST = "sglang==0.5.10"
BRANCH = "upgrade-deps/sglang-0.5.10"
LATER = 10_000.0  # seconds: past any retry's backoff


def later() -> float:
    return time.time() + LATER


def replies(world: World, number: int) -> list[str]:
    return [c["body"] for c in world.fake.comments_on(number) if "upgrade-deps:reply" in c["body"]]


def on_pull(world: World, author: str = "Codertocat") -> None:
    world.fake.roles["Codertocat"] = "write"
    world.push_branch("feature", {"feature.txt": "x\n"})
    world.fake.add_pull(REPO, 1, head="feature", base="main", author=author)


async def test_a_newer_push_supersedes_the_queued_job_of_an_older_one(
    fake: FakeGitHub, github: GitHub, tmp_path: Path, isolation: Isolation
) -> None:
    world = await make_world(
        fake, github, tmp_path, isolation=isolation, upgrades=Upgrades(outcome="nothing")
    )
    world.push_branch("renovate/x", {"README.md": "one\n"})
    fake.add_pull(REPO, 2, head="renovate/x", base="main", author="renovate[bot]")
    [older] = await world.deliver("pull_request", pull_opened(world, 2, author="renovate[bot]"))
    world.push_branch("renovate/x", {"README.md": "two\n"})
    [newer] = await world.deliver("pull_request", pull_opened(world, 2, author="renovate[bot]"))

    assert [job.id for job in await world.work()] == [newer]
    assert world.job(older).state == "superseded" and world.job(newer).state == "done"
    [run] = fake.check_runs.values()  # only the newest head was checked
    assert run["head_sha"] == world.repo.ref("renovate/x") and run["conclusion"] == "neutral"


async def test_a_branch_moved_while_working_is_upgraded_again_from_its_new_head(
    fake: FakeGitHub, github: GitHub, tmp_path: Path, isolation: Isolation
) -> None:
    world = await make_world(fake, github, tmp_path, isolation=isolation)
    on_pull(world)

    async def someone_pushes(call: int) -> None:
        if call == 1:
            world.push_branch("feature", {"theirs.txt": "pushed meanwhile\n"})

    world.upgrades.during = someone_pushes
    first_head = world.repo.ref("feature")
    [job_id] = await world.deliver("issue_comment", pull_comment(world, f"/upgrade-deps {REQUEST}", number=1))
    await world.work()

    assert world.job(job_id).state == "done" and len(world.upgrades.calls) == 2
    log = [subject for _, subject in branch_log(world.repo.bare, "feature")]
    assert log[:2] == [f"Pin {REQUEST}", "Change theirs.txt"]  # theirs kept, ours on top, never forced
    runs = {run["head_sha"]: run for run in fake.check_runs.values()}
    assert runs[first_head]["conclusion"] == "neutral"  # moved on from
    assert runs[world.repo.ref("feature")]["conclusion"] == "success"
    assert all(run["status"] == "completed" for run in runs.values())


async def test_a_branch_that_keeps_moving_is_retried_later(
    fake: FakeGitHub, github: GitHub, tmp_path: Path, isolation: Isolation
) -> None:
    world = await make_world(fake, github, tmp_path, isolation=isolation)
    on_pull(world)

    async def someone_always_pushes(call: int) -> None:
        world.push_branch("feature", {"theirs.txt": f"push {call}\n"})

    world.upgrades.during = someone_always_pushes
    [job_id] = await world.deliver("issue_comment", pull_comment(world, f"/upgrade-deps {REQUEST}", number=1))
    await world.work()
    job = world.job(job_id)
    assert job.state == "queued" and "kept moving" in (job.error or "")
    assert len(world.upgrades.calls) == 3 and replies(world, 1) == []

    world.upgrades.during = None  # they stopped pushing
    await world.work(now=later())
    assert world.job(job_id).state == "done"
    assert branch_log(world.repo.bare, "feature")[0][1] == f"Pin {REQUEST}"
    assert all(run["status"] == "completed" for run in fake.check_runs.values())


async def test_github_failing_after_the_push_is_retried_and_publishes_once(
    fake: FakeGitHub, github: GitHub, tmp_path: Path, isolation: Isolation
) -> None:
    world = await make_world(fake, github, tmp_path, isolation=isolation)
    fake.roles["Codertocat"] = "write"
    fake.failures["pulls/create"] = (502, {})
    [job_id] = await world.deliver("issue_comment", issue_comment(world, f"/upgrade-deps {REQUEST}"))
    await world.work()
    job = world.job(job_id)
    assert (
        job.state == "queued" and job.error == "POST /repos/Codertocat/Hello-World/pulls: GitHub answered 502"
    )
    assert fake.pulls == {} and world.repo.ref(BRANCH) is not None  # pushed, not yet proposed

    await world.work(now=later())
    assert world.job(job_id).state == "done"
    assert len(world.upgrades.calls) == 1  # the pushed result was published, not upgraded again
    assert [subject for _, subject in branch_log(world.repo.bare, BRANCH)] == [f"Pin {REQUEST}"]
    [pull] = fake.pulls.values()
    [reply] = replies(world, 1)
    assert pull["html_url"] in reply and REQUEST in show(world.repo.bare, BRANCH, "upgraded.txt")
    [run] = fake.check_runs.values()
    assert run["conclusion"] == "success" and run["head_sha"] == world.repo.ref(BRANCH)
    assert fake.reactions == [{"comment_id": 492700400, "content": "eyes"}]  # reacted once


async def test_a_failed_job_fails_its_check_run_and_says_why(
    fake: FakeGitHub, github: GitHub, tmp_path: Path, isolation: Isolation
) -> None:
    upgrades = Upgrades(error=ToolError("uv lock failed (exit 2): no solution"))
    world = await make_world(fake, github, tmp_path, isolation=isolation, upgrades=upgrades)
    on_pull(world)
    [job_id] = await world.deliver("issue_comment", pull_comment(world, f"/upgrade-deps {REQUEST}", number=1))
    await world.work()

    job = world.job(job_id)
    assert job.state == "failed" and job.error == "uv lock failed (exit 2): no solution"
    [run] = fake.check_runs.values()
    assert run["status"] == "completed" and run["conclusion"] == "failure"
    assert "no solution" in run["output"]["summary"] and "Re-run" in run["output"]["summary"]
    [reply] = replies(world, 1)
    assert "could not finish this job" in reply and "no solution" in reply


async def test_a_bug_fails_the_job_with_its_type_and_transient_errors_give_up_in_the_end(
    fake: FakeGitHub, github: GitHub, tmp_path: Path, isolation: Isolation
) -> None:
    world = await make_world(
        fake, github, tmp_path, isolation=isolation, upgrades=Upgrades(error=KeyError("x"))
    )
    fake.roles["Codertocat"] = "write"
    [bug] = await world.deliver("issue_comment", issue_comment(world, f"/upgrade-deps {REQUEST}"))
    await world.work()
    assert world.job(bug).state == "failed" and world.job(bug).error == "KeyError: 'x'"
    assert fake.check_runs == {}  # an issue's job has no run before its push
    assert "KeyError" in replies(world, 1)[0]

    world.upgrades.error = TransientError("GitHub answered 502")
    [flaky] = await world.deliver("issue_comment", issue_comment(world, f"/upgrade-deps {REQUEST}", number=2))
    await world.work(now=later())  # each retry is due by then: every attempt runs
    job = world.job(flaky)
    assert job.state == "failed" and job.attempts == MAX_ATTEMPTS and job.error == "GitHub answered 502"
    assert len(world.upgrades.calls) == 1 + MAX_ATTEMPTS
    assert "GitHub answered 502" in replies(world, 2)[0]
