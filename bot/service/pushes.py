"""Pushes made once through crashes: the intent is recorded before `git push`, checked on the remote after."""

from __future__ import annotations

from collections.abc import Sequence

from bot.model import Commit
from bot.service.clone import PushOutcome, Sandbox
from bot.service.ledger import Ledger, PushIntent
from bot.service.publication import Publication


async def push_once(
    box: Sandbox,
    ledger: Ledger,
    branch: str,
    *,
    plan: Publication | None = None,
    reverted: Sequence[Commit] = (),
) -> PushOutcome:
    """Push HEAD to `branch` (never forcing); what it publishes becomes the job's once it landed.

    Before the push the ledger holds the branch, its remote head, the commit and what to publish,
    so a run that dies anywhere in between leaves an intent `push_landed` can settle.
    """
    intent = PushIntent(branch, await box.remote_branch(branch), await box.head(), plan, tuple(reverted))
    ledger.intend_push(intent)
    outcome = await box.push(branch)
    if outcome == "pushed":
        ledger.confirm_push(intent)
    else:
        ledger.drop_push()
    return outcome


async def push_landed(box: Sandbox, ledger: Ledger) -> bool:
    """Settle a push recorded before a crash, in a fresh clone of the remote: True when it landed.

    Our commit on the branch (its head, or under commits pushed since) means it landed: its result
    is confirmed and published as recorded, never recomputed from the already-upgraded branch. The
    recorded head before the push, or a branch that moved elsewhere, means it did not: the intent
    is dropped and the job works again on what the branch is now.
    """
    intent = ledger.push_intent()
    if intent is None:
        return False
    remote = await box.remote_branch(intent.branch)
    landed = remote == intent.commit or (
        remote is not None and remote != intent.before and await box.reaches(intent.commit, intent.branch)
    )
    if landed:
        ledger.confirm_push(intent)
    else:
        ledger.drop_push()
    return landed
