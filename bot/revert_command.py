"""`/upgrade-deps revert` on a pull request: undo the app's own commits there, as new commits."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from bot.errors import NotLandedError, TransientError
from bot.github import PullInfo
from bot.jobspec import Command, Target
from bot.model import Commit
from bot.publish import Publisher
from bot.report import render
from bot.revert import revert_bot_commits
from bot.sandbox import Identity, Sandbox

if TYPE_CHECKING:
    from bot.service import Services

MOVED_RETRIES = 3


async def revert_command(
    s: Services, publisher: Publisher, *, job_id: int, command: Command, marker: str, identity: Identity
) -> None:
    """Revert and reply; forks and issues get a reply saying why nothing happened."""
    c, t = command, command.target

    async def refuse(branch: str, reason: str) -> None:
        body = render("github-reply-not-reverted.md.j2", marker=marker, branch=branch, reason=reason)
        await publisher.reply(c.number, "revert", body)

    if not c.is_pull:
        await refuse("-", "revert works on a pull request I pushed to, not on an issue")
        return
    pull = await s.github.pull(t.installation, t.repo, c.number)
    if pull.head_repo != t.repo:
        await refuse(pull.head_ref, "the branch belongs to a fork, and I never push to forks")
        return
    done = s.store.recorded(job_id, "reverted")  # a re-run after a crash replies, never reverts twice
    if done is None:
        try:
            reverted = await _revert_on(s, t, pull, identity)
        except NotLandedError as exc:
            await refuse(pull.head_ref, str(exc))
            return
        done = json.dumps([[commit.sha, commit.message] for commit in reverted])
        s.store.record(job_id, "reverted", done)
    commits = [Commit(sha, message) for sha, message in json.loads(done)]
    body = render("github-reply-reverted.md.j2", marker=marker, reverted=commits, branch=pull.head_ref,
                  base=pull.base_ref)  # fmt: skip
    await publisher.reply(c.number, "revert", body)


async def _revert_on(s: Services, t: Target, pull: PullInfo, identity: Identity) -> tuple[Commit, ...]:
    """Revert on a fresh clone and push without force; start again when the branch moved."""
    for _ in range(MOVED_RETRIES):
        token = await s.github.token(t.installation)
        async with Sandbox(environ=s.environ, token=token, identity=identity) as box:
            await box.clone(t.clone_url, ref=pull.head_ref)
            await box.fetch(pull.base_sha)
            reverted = await revert_bot_commits(
                box.repo, base=pull.base_sha, bot_email=s.app.bot_email, bot_name=s.app.bot_login
            )
            if not reverted or await box.push(pull.head_ref) == "pushed":
                return reverted
    raise TransientError(f"branch {pull.head_ref} kept moving while upgrade-deps reverted; will try again")
