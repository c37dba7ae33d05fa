"""Publishing against the fake GitHub: review comments on diff lines only, summary edited in place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.github import GitHub
from bot.jobs import JobStore
from bot.jobspec import Target
from bot.model import Finding, Request, UpgradeResult
from bot.plan import make_plan
from bot.publish import Publisher
from tests.e2e.harness import APP_ID, start_fake
from tests.fakegithub.server import FakeGitHub, Repo
from tests.support.appkeys import key_pair
from tests.support.gitrepos import bare_from, commit_all
from tests.support.repos import git


@pytest.fixture
async def fake() -> AsyncIterator[FakeGitHub]:
    fake, runner = await start_fake()
    yield fake
    await runner.cleanup()
    assert fake.errors == []


@pytest.fixture
async def github(fake: FakeGitHub) -> AsyncIterator[GitHub]:
    async with aiohttp.ClientSession() as session:
        yield GitHub(session, app_id=str(APP_ID), private_key=key_pair()[0], api_url=fake.url)


def finding(line: int) -> Finding:
    return Finding(file="src/app/engine.py", line=line, column=0, package="sglang", symbol="ServerArgs",
                   kind="keyword-removed", severity="error", message="tp_size was removed")  # fmt: skip


async def test_review_and_summary(fake: FakeGitHub, github: GitHub, tmp_path: Path) -> None:
    work, bare = bare_from(tmp_path, "origin")
    git(work, "checkout", "-q", "-b", "feature")
    engine = work / "src/app/engine.py"
    engine.write_text(engine.read_text() + "\n\nargs = ServerArgs('m', tp_size=2)\n")
    commit_all(work, "use ServerArgs")
    git(work, "push", "-q", "origin", "feature")
    repo = Repo("o/r", bare)
    fake.repos["o/r"] = repo
    fake.add_pull("o/r", 3, head="feature", base="main", author="someone")
    new_line = len(engine.read_text().splitlines())
    result = UpgradeResult(request=Request((), "sglang==0.5.10"), outcome="breaking", date="2026-01-01",
                           findings=(finding(new_line), finding(1)))  # fmt: skip
    plan = make_plan(result, audit_only=False, pushed=False, branch="feature")
    store = JobStore(tmp_path / "jobs.sqlite3")
    target = Target(7, "o/r", repo.clone_url, "main")

    first = Publisher(github=github, store=store, job_id=1, target=target, bot_login="upgrade-deps[bot]")
    await first.review(3, repo.ref("feature") or "", plan)
    await first.review(3, repo.ref("feature") or "", plan)  # the same job again: nothing new
    await first.summary_comment(3, plan, audit_only=False)
    [review] = fake.reviews
    assert review["event"] == "COMMENT" and review["commit_id"] == repo.ref("feature")
    assert [(c["path"], c["line"], c["side"]) for c in review["comments"]] == [
        ("src/app/engine.py", new_line, "RIGHT")
    ]  # line 1 is not in the diff: it stays an annotation only

    second = Publisher(github=github, store=store, job_id=2, target=target, bot_login="upgrade-deps[bot]")
    await second.review(3, repo.ref("feature") or "", plan)  # a re-run: the finding was already commented
    await second.summary_comment(3, plan, audit_only=False)
    assert len(fake.reviews) == 1
    [comment] = fake.comments_on(3)
    assert comment["body"].startswith("<!-- upgrade-deps:summary -->") and comment["edits"] == 1
