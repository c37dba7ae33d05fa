"""issue_comment events: `/upgrade-deps ...` commands on issues and pull requests."""

from __future__ import annotations

from gidgethub.routing import Router
from gidgethub.sansio import Event

from bot.jobspec import Command
from bot.words import split_words
from handlers.intake import Intake, has_installation, target

router = Router()
COMMAND = "/upgrade-deps"


def command_words(body: str) -> tuple[str, ...] | None:
    """The words after `/upgrade-deps` when the comment starts with it; None when it does not.

    Quoting is read as a POSIX shell reads it, in one pass over the line (the body's length is
    bounded at the edge). Unbalanced quotes are kept as plain words so the parser can say what is
    wrong with them.
    """
    first = body.lstrip().split("\n", 1)[0].strip()
    if first != COMMAND and not first.startswith(COMMAND + " "):
        return None
    rest = first[len(COMMAND) :]
    words = split_words(rest)
    return tuple(rest.split()) if words is None else words


@router.register("issue_comment", action="created")
async def comment_created(event: Event, intake: Intake) -> None:
    data = event.data
    if not has_installation(data):
        return
    comment = data["comment"]
    user = comment["user"]
    # Our own replies and other bots never run commands (and so can never loop).
    if user.get("type") == "Bot" or user["login"] == intake.app.bot_login:
        return
    words = command_words(str(comment.get("body") or ""))
    if words is None:
        return
    issue = data["issue"]
    intake.accepted.append(
        Command(
            target=target(data),
            number=int(issue["number"]),
            is_pull=bool(issue.get("pull_request")),
            comment_id=int(comment["id"]),
            author=str(user["login"]),
            words=words,
            title=str(issue.get("title") or ""),
        )
    )
