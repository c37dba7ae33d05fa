"""A push recorded before a crash is settled from the remote alone, on real git."""

from __future__ import annotations

import os
from pathlib import Path

from bot.model import Commit, Request, UpgradeResult
from bot.service.clone import Identity, Sandbox
from bot.service.jobs import JobStore
from bot.service.ledger import Ledger, PushIntent
from bot.service.publication import make_plan
from bot.service.pushes import push_landed, push_once
from tests.support.gitrepos import bare_from, commit_all
from tests.support.repos import git

BOT = Identity("upgrade-deps[bot]", "1+upgrade-deps[bot]@users.noreply.github.com")
PLAN = make_plan(UpgradeResult(Request((), "x==1"), "landed", "2026-01-01"), audit_only=False, pushed=True,
                 branch="main")  # fmt: skip


def sandbox(tmp: Path) -> Sandbox:
    return Sandbox(environ=dict(os.environ), token=None, identity=BOT, parent=tmp)


async def crashed_push(tmp: Path, ledger: Ledger, bare: Path, *, lands: bool) -> PushIntent:
    """What a job leaves when it dies right after `git push` (or right before it, `lands=False`)."""
    async with sandbox(tmp) as box:
        await box.clone(bare.as_uri(), ref="main")
        (box.repo / "NOTES.md").write_text("ours\n")
        await box.git("add", "NOTES.md")
        await box.git("commit", "-q", "-m", "ours")
        intent = PushIntent("main", await box.remote_branch("main"), await box.head(), PLAN)
        ledger.intend_push(intent)
        if lands:
            await box.git("push", "-q", "origin", "HEAD:refs/heads/main")
    return intent


async def settle(tmp: Path, ledger: Ledger, bare: Path) -> bool:
    async with sandbox(tmp) as box:
        await box.clone(bare.as_uri(), ref="main")
        return await push_landed(box, ledger)


async def test_a_push_that_landed_is_confirmed_with_its_plan(tmp_path: Path) -> None:
    _, bare = bare_from(tmp_path, "origin")
    ledger = JobStore(tmp_path / "jobs.sqlite3").ledger(1)
    intent = await crashed_push(tmp_path, ledger, bare, lands=True)
    assert await settle(tmp_path, ledger, bare)
    result = ledger.result()
    assert result is not None and result.head == intent.commit and result.plan == PLAN
    assert ledger.push_intent() is None


async def test_a_push_under_later_commits_landed_too(tmp_path: Path) -> None:
    work, bare = bare_from(tmp_path, "origin")
    ledger = JobStore(tmp_path / "jobs.sqlite3").ledger(1)
    intent = await crashed_push(tmp_path, ledger, bare, lands=True)
    git(work, "pull", "-q", "origin", "main")
    (work / "LATER.md").write_text("someone pushed after us\n")
    commit_all(work, "later")
    git(work, "push", "-q", "origin", "main")
    assert await settle(tmp_path, ledger, bare)
    assert (result := ledger.result()) is not None and result.head == intent.commit


async def test_a_push_that_never_happened_or_was_overtaken_is_dropped(tmp_path: Path) -> None:
    work, bare = bare_from(tmp_path, "origin")
    ledger = JobStore(tmp_path / "jobs.sqlite3").ledger(1)
    await crashed_push(tmp_path, ledger, bare, lands=False)
    assert not await settle(tmp_path, ledger, bare)  # the remote is where it was before the push
    assert ledger.push_intent() is None and ledger.result() is None
    await crashed_push(tmp_path, ledger, bare, lands=False)
    (work / "OTHER.md").write_text("someone else\n")
    commit_all(work, "someone else's commit")
    git(work, "push", "-q", "origin", "main")
    assert not await settle(tmp_path, ledger, bare)  # moved elsewhere: the job starts again there
    assert ledger.push_intent() is None and ledger.result() is None


async def test_push_once_records_the_revert_it_pushed(tmp_path: Path) -> None:
    _, bare = bare_from(tmp_path, "origin")
    ledger = JobStore(tmp_path / "jobs.sqlite3").ledger(1)
    async with sandbox(tmp_path) as box:
        await box.clone(bare.as_uri(), ref="main")
        await box.git("commit", "-q", "--allow-empty", "-m", "Revert x")
        assert await push_once(box, ledger, "main", reverted=[Commit("abc", "Pin x")]) == "pushed"
    assert ledger.reverted() == (Commit("abc", "Pin x"),) and ledger.push_intent() is None
