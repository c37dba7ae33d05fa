"""pull_request events: pull requests opened or updated by dependency bots get completed and audited."""

from __future__ import annotations

from gidgethub.routing import Router
from gidgethub.sansio import Event

from bot.service.jobspec import BotPull
from handlers.intake import Intake, target
from handlers.payloads import Installation, PullRequest, parse

router = Router()


@router.register("pull_request", action="opened")
@router.register("pull_request", action="synchronize")
@router.register("pull_request", action="reopened")
async def pull_changed(event: Event, intake: Intake) -> None:
    data = parse(event.data, PullRequest)
    if not isinstance(data.installation, Installation):
        return  # a repository hook's delivery, not one to the app
    # A push made by this app fires `synchronize` too; reacting to it would loop forever.
    if data.sender.login == intake.app.bot_login:
        return
    pull = data.pull_request
    if pull.state != "open":
        return
    if pull.user is None:
        return  # no author to tell a dependency bot by (the account is gone)
    intake.accepted.append(
        BotPull(
            target=target(data.repository, data.installation),
            number=pull.number,
            author=pull.user.login,
            author_is_bot=pull.user.type == "Bot",
            head_ref=pull.head.ref,
            head_sha=pull.head.sha,
            head_repo=pull.head.repo.full_name if pull.head.repo else "",
            base_ref=pull.base.ref,
            base_sha=pull.base.sha,
            title=pull.title,
            body=pull.body or "",
        )
    )
