"""The job runner on `/upgrade-deps` comments, case by case: the payload in, GitHub's requests out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.model import Finding
from bot.service.github import GitHub
from bot.tools.isolation import Isolation
from tests.fakegithub.server import FakeGitHub
from tests.service.jobworld import REPO, UPGRADED, Upgrades, World, issue_comment, make_world, pull_comment
from tests.support.gitrepos import branch_log, show

REQUEST = "sglang==0.5.10"
BRANCH = "upgrade-deps/sglang-0.5.10"
PERMISSION, REACT = "repos/get-collaborator-permission-level", "reactions/create-for-issue-comment"
COMMENT, COMMENTS = "issues/create-comment", "issues/list-comments"
CREATE, UPDATE = "checks/create", "checks/update"
BREAKING = Finding(file=UPGRADED, line=1, column=0, package="sglang", symbol="ServerArgs", kind="removed",
                   severity="error", message="ServerArgs is gone")  # fmt: skip


@dataclass(frozen=True)
class Case:
    name: str
    body: str  # the comment
    role: str = "write"  # the commenter's role on the repository
    on_pull: bool = False  # on pull request #1 (branch `feature`, same repository) rather than issue #1
    upgrades: Upgrades = field(default_factory=Upgrades)
    operations: tuple[str, ...] = ()  # what GitHub is asked, in order
    reply: str = ""  # in the one reply
    conclusion: str | None = None  # of the last check run, when there is one
    check: Callable[[World], None] | None = None  # anything else the case is about


def pushed_to(branch: str) -> Callable[[World], None]:
    def check(world: World) -> None:
        assert [subject for _, subject in branch_log(world.repo.bare, branch)][:1] == [f"Pin {REQUEST}"]
        assert REQUEST in show(world.repo.bare, branch, UPGRADED)

    return check


def nothing_pushed(world: World) -> None:
    assert world.repo.ref(BRANCH) is None and world.upgrades.calls == []


ISSUE = (PERMISSION, REACT)
OPENED = (*ISSUE, "pulls/list", "pulls/create", CREATE, UPDATE, COMMENT)
ON_PULL = (*ISSUE, "pulls/get", CREATE, UPDATE)  # the run on the head; "push" shown in its title
PUBLISHED = (UPDATE, COMMENTS, COMMENT)  # the check run completed, the summary comment posted
NOT_PUSHED = (*ISSUE, "pulls/get", CREATE, *PUBLISHED)
CASES = [
    Case("issue: a writer's upgrade opens a pull request", f"/upgrade-deps {REQUEST}", operations=OPENED,
         reply="Upgrade landed: opened https://", conclusion="success", check=pushed_to(BRANCH)),
    Case("issue: a maintainer may too; breaking call sites fail the run", f"/upgrade-deps {REQUEST}",
         role="maintain", upgrades=Upgrades(outcome="breaking", findings=(BREAKING,)), operations=OPENED,
         reply="breaking call sites found: opened https://", conclusion="failure"),
    Case("issue: someone who may only read is refused", f"/upgrade-deps {REQUEST}", role="read",
         operations=(PERMISSION, COMMENT), reply="your access is `read`, so I did not run anything",
         check=nothing_pushed),
    Case("issue: help", "/upgrade-deps help", operations=(*ISSUE, COMMENT), reply="Usage: `/upgrade-deps ",
         check=nothing_pushed),
    Case("issue: a malformed request says what is wrong", "/upgrade-deps sglang=0.5.10",
         operations=(*ISSUE, COMMENT), reply="sglang=0.5.10", check=nothing_pushed),
    Case("issue: nothing to upgrade opens nothing", f"/upgrade-deps {REQUEST}",
         upgrades=Upgrades(outcome="nothing", commit=False), operations=(*ISSUE, "pulls/list", COMMENT),
         reply="Nothing to upgrade; no pull request was opened"),
    Case("issue: a refused upgrade opens nothing", f"/upgrade-deps {REQUEST}",
         upgrades=Upgrades(outcome="refused", commit=False), operations=(*ISSUE, "pulls/list", COMMENT),
         reply="Upgrade refused; no pull request was opened"),
    Case("pull request: the upgrade is pushed to its branch", f"/upgrade-deps {REQUEST}", on_pull=True,
         # The pushed head gets the run; the one on the old head completes as moved on.
         operations=(*ON_PULL, CREATE, UPDATE, *PUBLISHED), conclusion="success", check=pushed_to("feature")),
    Case("pull request: an upgrade that did not land fails the run", f"/upgrade-deps {REQUEST}",
         on_pull=True, upgrades=Upgrades(outcome="not-landed", commit=False),
         operations=NOT_PUSHED, conclusion="failure"),
    Case("pull request: a refused upgrade asks for action", f"/upgrade-deps {REQUEST}", on_pull=True,
         upgrades=Upgrades(outcome="refused", commit=False), operations=NOT_PUSHED,
         conclusion="action_required"),
    Case("pull request: nothing to upgrade is neutral", f"/upgrade-deps {REQUEST}", on_pull=True,
         upgrades=Upgrades(outcome="nothing", commit=False), operations=NOT_PUSHED, conclusion="neutral"),
    Case("revert on an issue: nothing to revert there", "/upgrade-deps revert", operations=(*ISSUE, COMMENT),
         reply="not on an issue", check=nothing_pushed),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_a_command(
    case: Case, fake: FakeGitHub, github: GitHub, tmp_path: Path, isolation: Isolation
) -> None:
    world = await make_world(fake, github, tmp_path, isolation=isolation, upgrades=case.upgrades)
    fake.roles["Codertocat"] = case.role
    if case.on_pull:
        world.push_branch("feature", {"feature.txt": "a change of the PR's own\n"})
        fake.add_pull(REPO, 1, head="feature", base="main", author="Codertocat")
        data = pull_comment(world, case.body, number=1)
    else:
        data = issue_comment(world, case.body)
    [job_id] = await world.deliver("issue_comment", data)
    assert [job.id for job in await world.work()] == [job_id]

    assert world.job(job_id).state == "done"
    assert world.operations() == list(case.operations)
    replies = [c["body"] for c in fake.comments_on(1) if "upgrade-deps:reply" in c["body"]]
    if case.reply:
        [reply] = replies
        assert case.reply in reply
    runs = list(fake.check_runs.values())
    if case.conclusion is not None:
        assert runs[-1]["status"] == "completed" and runs[-1]["conclusion"] == case.conclusion
        assert all(run["status"] == "completed" for run in runs)
    if case.check is not None:
        case.check(world)
