"""`/upgrade-deps revert` on a pull request: undo the app's own commits there, as new commits."""

from __future__ import annotations

from bot.errors import NotLandedError, TransientError
from bot.model import Commit
from bot.service.github import PullInfo
from bot.service.jobspec import Command
from bot.service.ledger import Ledger
from bot.service.publish import Publisher
from bot.service.pushes import push_landed, push_once
from bot.service.services import Services
from bot.tools.revert import revert_bot_commits

MOVED_RETRIES = 3
REPLY = "revert"


async def revert_command(s: Services, publisher: Publisher, *, command: Command) -> None:
    """Revert and reply; forks and issues get a reply saying why nothing happened."""
    c, t = command, command.target
    if not c.is_pull:
        reason = "revert works on a pull request I pushed to, not on an issue"
        await publisher.reply(c.number, REPLY, "github-reply-not-reverted.md.j2", branch="-", reason=reason)
        return
    pull = await s.github.pull(t.installation, t.repo, c.number)
    if pull.head_repo != t.repo:
        await publisher.reply(c.number, REPLY, "github-reply-not-reverted.md.j2", branch=pull.head_ref,
                              reason="the branch belongs to a fork, and I never push to forks")  # fmt: skip
        return
    done = publisher.ledger.reverted()  # a re-run after a crash replies, never reverts twice
    if done is None:
        try:
            done = await _revert_on(s, publisher.ledger, pull, installation=t.installation, url=t.clone_url)
        except NotLandedError as exc:
            await publisher.reply(c.number, REPLY, "github-reply-not-reverted.md.j2", branch=pull.head_ref,
                                  reason=str(exc))  # fmt: skip
            return
    await publisher.reply(c.number, REPLY, "github-reply-reverted.md.j2", reverted=list(done),
                          branch=pull.head_ref, base=pull.base_ref)  # fmt: skip


async def _revert_on(
    s: Services, ledger: Ledger, pull: PullInfo, *, installation: int, url: str
) -> tuple[Commit, ...]:
    """Revert on a fresh clone and push once, without force; start again when the branch moved."""
    for _ in range(MOVED_RETRIES):
        token = await s.github.token(installation)
        async with s.sandbox(token) as box:
            await box.clone(url, ref=pull.head_ref)
            if await push_landed(box, ledger) and (landed := ledger.reverted()) is not None:
                return landed  # reverted and pushed just before a crash
            await box.fetch(pull.base_sha)
            reverted = await revert_bot_commits(
                box.repo, base=pull.base_sha, bot_email=s.app.bot_email, bot_name=s.app.bot_login
            )
            if not reverted:
                ledger.set_reverted(())
                return ()
            if await push_once(box, ledger, pull.head_ref, reverted=reverted) == "pushed":
                return reverted
    raise TransientError(f"branch {pull.head_ref} kept moving while upgrade-deps reverted; will try again")
