"""pull_request events: pull requests opened or updated by dependency bots get completed and audited."""

from __future__ import annotations

from gidgethub.routing import Router
from gidgethub.sansio import Event

from bot.jobspec import BotPull
from handlers.intake import Intake, has_installation, target

router = Router()


@router.register("pull_request", action="opened")
@router.register("pull_request", action="synchronize")
@router.register("pull_request", action="reopened")
async def pull_changed(event: Event, intake: Intake) -> None:
    data = event.data
    if not has_installation(data):
        return
    # A push made by this app fires `synchronize` too; reacting to it would loop forever.
    if data.get("sender", {}).get("login") == intake.app.bot_login:
        return
    pull = data["pull_request"]
    if pull.get("state", "open") != "open":
        return
    head, base = pull["head"], pull["base"]
    user = pull["user"]
    intake.accepted.append(
        BotPull(
            target=target(data),
            number=int(pull["number"]),
            author=str(user["login"]),
            author_is_bot=user.get("type") == "Bot",
            head_ref=str(head["ref"]),
            head_sha=str(head["sha"]),
            head_repo=str((head.get("repo") or {}).get("full_name", "")),
            base_ref=str(base["ref"]),
            base_sha=str(base["sha"]),
            title=str(pull.get("title") or ""),
            body=str(pull.get("body") or ""),
        )
    )
