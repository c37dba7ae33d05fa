"""issue_comment events: `/upgrade-deps ...` commands on issues and pull requests."""

from __future__ import annotations

from gidgethub.routing import Router
from gidgethub.sansio import Event

from bot.pipeline.words import split_words
from bot.service.commands import parse_command
from bot.service.jobspec import Command
from handlers.intake import Intake, target
from handlers.payloads import Installation, IssueComment, PullLink, parse

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
    data = parse(event.data, IssueComment)
    if not isinstance(data.installation, Installation):
        return  # a repository hook's delivery, not one to the app: 200, nothing to act for
    user = data.comment.user
    if user is None:
        return  # no author (the account is gone): no one whose access could be checked
    # Our own replies and other bots never run commands (and so can never loop).
    if user.type == "Bot" or user.login == intake.app.bot_login:
        return
    words = command_words(data.comment.body)
    if words is None:
        return
    issue = data.issue
    intake.accepted.append(
        Command(
            target=target(data.repository, data.installation),
            number=issue.number,
            is_pull=isinstance(issue.pull_request, PullLink),
            comment_id=data.comment.id,
            author=user.login,
            asked=parse_command(words),
            title=issue.title,
        )
    )
