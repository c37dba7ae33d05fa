"""The job runner on pull requests: forks, reverts, dependency bots' pull requests, re-runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from bot.model import Finding
from bot.service.github import GitHub
from bot.tools.isolation import Isolation
from tests.fakegithub.server import FakeGitHub, Repo
from tests.service.jobworld import (
    REPO,
    Upgrades,
    World,
    make_world,
    pull_comment,
    pull_opened,
    rerun_requested,
    with_runtime,
)
from tests.support.gitrepos import branch_log, show, with_bare
from tests.support.repos import git

PERMISSION, REACT = "repos/get-collaborator-permission-level", "reactions/create-for-issue-comment"
COMMENT, COMMENTS = "issues/create-comment", "issues/list-comments"
CREATE, UPDATE = "checks/create", "checks/update"
REVIEW = ("pulls/list-files", "pulls/list-review-comments", "pulls/create-review")
COMMAND = (PERMISSION, REACT, "pulls/get")
PUBLISHED = (UPDATE, COMMENTS, COMMENT)  # the run completed, the summary comment posted
PUSHED = (CREATE, UPDATE, CREATE, UPDATE, *PUBLISHED)  # run on the head, "push", run on the pushed head
FEATURE = "feature.txt"
NEW_CALL = Finding(file=FEATURE, line=1, column=0, package="sglang", symbol="ServerArgs", kind="removed",
                   severity="error", message="ServerArgs is gone")  # fmt: skip
SGLANG_PIN = '"sglang==0.5.9"'
REQUEST = "sglang==0.5.10"


def fork_of(world: World, tmp: Path, branch: str = "feature", files: dict[str, str] | None = None) -> Repo:
    """A fork of the repository holding `branch`, one commit (`files`) ahead of main."""
    work = tmp / "fork-work"
    git(tmp, "clone", "-q", str(world.repo.bare), str(work))
    git(work, "checkout", "-q", "-b", branch)
    for name, text in (files or {FEATURE: "ServerArgs(tp_size=2)\n"}).items():
        (work / name).write_text(text)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "Use ServerArgs")
    git(work, "remote", "remove", "origin")
    fork = Repo("someone/Hello-World", with_bare(work, tmp, "fork"))
    git(work, "push", "-q", "origin", branch)
    world.fake.repos[fork.full_name] = fork
    return fork


@dataclass(frozen=True)
class Command:
    """A comment on pull request #1, whose head is `feature` (of the repository, or of a fork)."""

    name: str
    body: str
    fork: bool = False
    app_commits: bool = False  # the app pushed to `feature` before
    upgrades: Upgrades = field(default_factory=Upgrades)
    operations: tuple[str, ...] = ()
    reply: str = ""
    conclusion: str | None = None
    check: Callable[[World], None] | None = None


def reverted(world: World) -> None:
    subjects = [subject for _, subject in branch_log(world.repo.bare, "feature")]
    assert subjects[0] == 'Revert "Change upgraded.txt"' and "Change upgraded.txt" in subjects


def audited_only(world: World) -> None:
    [(_, options)] = world.upgrades.calls
    assert not options.commit and not options.trusted
    [review] = world.fake.reviews
    assert [(c["path"], c["line"]) for c in review["comments"]] == [(FEATURE, 1)]


COMMANDS = [
    Command("a fork's: audited, never pushed to, findings reviewed on the diff", f"/upgrade-deps {REQUEST}",
            fork=True, upgrades=Upgrades(outcome="breaking", findings=(NEW_CALL,)),
            operations=(*COMMAND, CREATE, *PUBLISHED, *REVIEW), conclusion="failure", check=audited_only),
    Command("revert: the app's commits are undone by new ones", "/upgrade-deps revert", app_commits=True,
            operations=(*COMMAND, COMMENT), reply="Reverted 1 commit of mine", check=reverted),
    Command("revert: nothing of the app's to revert", "/upgrade-deps revert",
            operations=(*COMMAND, COMMENT), reply="There is nothing of mine to revert"),
    Command("revert on a fork's pull request: never pushed to", "/upgrade-deps revert", fork=True,
            operations=(*COMMAND, COMMENT), reply="the branch belongs to a fork"),
]  # fmt: skip


@pytest.mark.parametrize("case", COMMANDS, ids=[case.name for case in COMMANDS])
async def test_a_command_on_a_pull_request(
    case: Command, fake: FakeGitHub, github: GitHub, tmp_path: Path, isolation: Isolation
) -> None:
    world = await make_world(fake, github, tmp_path, isolation=isolation, upgrades=case.upgrades)
    fake.roles["Codertocat"] = "admin"
    head_repo = fork_of(world, tmp_path) if case.fork else None
    if not case.fork:
        world.push_branch("feature", {FEATURE: "ServerArgs(tp_size=2)\n"})
    if case.app_commits:
        world.push_branch("feature", {"upgraded.txt": "the app's upgrade\n"}, by_the_app=True)
    fake.add_pull(REPO, 1, head="feature", base="main", author="Codertocat", head_repo=head_repo)
    [job_id] = await world.deliver("issue_comment", pull_comment(world, case.body, number=1))
    await world.work()

    assert world.job(job_id).state == "done"
    assert world.operations() == list(case.operations)
    if case.reply:
        [reply] = [c["body"] for c in fake.comments_on(1) if "upgrade-deps:reply" in c["body"]]
        assert case.reply in reply
    if case.conclusion is not None:
        assert list(fake.check_runs.values())[-1]["conclusion"] == case.conclusion
    if case.check is not None:
        case.check(world)


@dataclass(frozen=True)
class BotPull:
    """Pull request #2 opened from branch `renovate/sglang`, changing `files` of main."""

    name: str
    files: dict[str, str]
    author: str = "renovate[bot]"
    config: str | None = None  # .github/upgrade-deps.toml on main
    fork: bool = False
    operations: tuple[str, ...] = ()
    asked: str | None = None  # the request derived from the pull request, when one is
    conclusion: str | None = None


def pinned(world: World, version: str) -> dict[str, str]:
    text = show(world.repo.bare, "main", "pyproject.toml")
    assert SGLANG_PIN in text
    return {"pyproject.toml": text.replace(SGLANG_PIN, f'"sglang=={version}"')}


BOT_PULLS = [
    BotPull("a bot's pin moved: completed and pushed", {"pin": "0.5.10"}, operations=PUSHED,
            asked="sglang==0.5.10", conclusion="success"),
    BotPull("a bot's pull request of nothing tracked is neutral", {"README.md": "hello\n"},
            operations=(CREATE, *PUBLISHED), conclusion="neutral"),
    BotPull("a bot's unreadable manifest asks for action", {"pyproject.toml": "[project\n"},
            operations=(CREATE, *PUBLISHED), conclusion="action_required"),
    BotPull("a bot the repository names in [bots]", {"pin": "0.5.10"}, author="deps-helper",
            config='[bots]\nauthors = ["deps-helper"]\n', operations=("repos/get-content", *PUSHED),
            asked="sglang==0.5.10", conclusion="success"),
    BotPull("a person's pull request is theirs", {"pin": "0.5.10"}, author="Codertocat",
            operations=("repos/get-content",)),
    BotPull("a 'bot' opening from a fork is someone imitating one", {"pin": "0.5.10"}, fork=True),
]  # fmt: skip


async def bot_world(case: BotPull, world: World, tmp: Path) -> None:
    if case.config is not None:
        world.push_branch("main", {".github/upgrade-deps.toml": case.config})
    files = pinned(world, case.files["pin"]) if "pin" in case.files else case.files
    head_repo = fork_of(world, tmp, "renovate/sglang", files) if case.fork else None
    if not case.fork:
        world.push_branch("renovate/sglang", files)
    world.fake.add_pull(REPO, 2, head="renovate/sglang", base="main", author=case.author, head_repo=head_repo)


@pytest.mark.parametrize("case", BOT_PULLS, ids=[case.name for case in BOT_PULLS])
async def test_a_pull_request_opened(
    case: BotPull, fake: FakeGitHub, github: GitHub, tmp_path: Path, isolation: Isolation
) -> None:
    world = await make_world(fake, github, tmp_path, isolation=isolation)
    await bot_world(case, world, tmp_path)
    [job_id] = await world.deliver("pull_request", pull_opened(world, 2, author=case.author))
    await world.work()

    assert world.job(job_id).state == "done"
    assert world.operations() == list(case.operations)
    assert [request.raw for request, _ in world.upgrades.calls] == ([case.asked] if case.asked else [])
    if case.conclusion is not None:
        assert list(fake.check_runs.values())[-1]["conclusion"] == case.conclusion
        [summary] = fake.comments_on(2)
        assert summary["body"].startswith("<!-- upgrade-deps:summary -->")


async def test_without_a_sandbox_a_bots_lock_changes_are_audited_against_its_base(
    fake: FakeGitHub, github: GitHub, tmp_path: Path, isolation: Isolation
) -> None:
    world = await make_world(fake, github, tmp_path, isolation=isolation)
    world = with_runtime(world, replace(isolation, mode="refused", reason="no bubblewrap here"))
    world.upgrades.outcome, world.upgrades.commit = "refused", False
    await bot_world(BOT_PULLS[0], world, tmp_path)
    await world.deliver("pull_request", pull_opened(world, 2, author="renovate[bot]"))
    await world.work()
    [(request, options)] = world.upgrades.calls
    assert request.raw == "sglang==0.5.10" and options.static_base == world.repo.ref("main")
    assert list(fake.check_runs.values())[-1]["conclusion"] == "action_required"


async def test_a_rerun_of_a_commands_check_run_asks_the_same_again(
    fake: FakeGitHub, github: GitHub, tmp_path: Path, isolation: Isolation
) -> None:
    world = await make_world(fake, github, tmp_path, isolation=isolation)
    fake.roles["Codertocat"] = "write"
    world.push_branch("feature", {FEATURE: "x\n"})
    fake.add_pull(REPO, 1, head="feature", base="main", author="Codertocat")
    await world.deliver("issue_comment", pull_comment(world, "/upgrade-deps sglang==0.5.10", number=1))
    await world.work()
    run = list(fake.check_runs.values())[-1]
    start = len(fake.requests)

    [rerun] = await world.deliver("check_run", rerun_requested(world, run, number=1))
    await world.work()
    assert world.job(rerun).state == "done"
    assert [request.raw for request, _ in world.upgrades.calls] == ["sglang==0.5.10"] * 2
    # The summary comment is found by its marker and edited, never posted twice.
    assert world.operations(start) == ["pulls/get", *PUSHED[:-1], "issues/update-comment"]
    [summary] = [c for c in fake.comments_on(1) if "upgrade-deps:summary" in c["body"]]
    assert summary["edits"] == 1
    assert world.store.ledger(rerun).request() == world.store.ledger(1).request()


async def test_a_rerun_of_a_bots_check_run_derives_again(
    fake: FakeGitHub, github: GitHub, tmp_path: Path, isolation: Isolation
) -> None:
    world = await make_world(fake, github, tmp_path, isolation=isolation)
    await bot_world(BOT_PULLS[0], world, tmp_path)
    await world.deliver("pull_request", pull_opened(world, 2, author="renovate[bot]"))
    await world.work()
    run = list(fake.check_runs.values())[-1]
    [rerun] = await world.deliver("check_run", rerun_requested(world, run, number=2))
    await world.work()
    assert world.job(rerun).state == "done"
    assert [request.raw for request, _ in world.upgrades.calls] == ["sglang==0.5.10"] * 2


async def test_a_rerun_with_no_pull_request_does_nothing(
    fake: FakeGitHub, github: GitHub, tmp_path: Path, isolation: Isolation
) -> None:
    world = await make_world(fake, github, tmp_path, isolation=isolation)
    run = {"id": 77, "head_sha": world.repo.ref("main")}
    data = rerun_requested(world, run, number=1)
    data["check_run"]["pull_requests"] = []
    [job_id] = await world.deliver("check_run", data)
    await world.work()
    assert world.job(job_id).state == "done" and world.operations() == [] and world.upgrades.calls == []
