"""What an `/upgrade-deps` comment asks for, parsed once at the edge: help, revert, an upgrade, or why not."""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec

from bot.errors import BadArgumentsError
from bot.model import Request
from bot.pipeline.request import parse_request


# Tagged structs rather than dataclasses: msgspec decodes a union of them by its "kind" tag, so the
# job spec stores which command it is and loads it back checked.
class Help(msgspec.Struct, frozen=True, tag="help", tag_field="kind"):
    """`/upgrade-deps help`: answer with the usage."""


class Revert(msgspec.Struct, frozen=True, tag="revert", tag_field="kind"):
    """`/upgrade-deps revert`: undo the app's own commits on the pull request."""


class Upgrade(msgspec.Struct, frozen=True, tag="upgrade", tag_field="kind"):
    """`/upgrade-deps pkg==version ...`: the request, and the branch an issue's upgrade is pushed to."""

    request: Request
    branch: str


class Malformed(msgspec.Struct, frozen=True, tag="malformed", tag_field="kind"):
    """Command words that are no request; `problem` names the argument and what is wrong with it."""

    problem: str


Asked = Help | Revert | Upgrade | Malformed


def branch_name(words: Sequence[str]) -> str:
    """`upgrade-deps/<short description>` from the request, safe as a git ref."""
    text = "-".join(w.replace("==", "-").replace("@", "-") for w in words if not w.startswith("--"))
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:60].rstrip("-.")
    return f"upgrade-deps/{slug or 'upgrade'}"


def parse_command(words: Sequence[str]) -> Asked:
    """The command the words after `/upgrade-deps` give; never raises for what a user can write."""
    if tuple(words[:1]) == ("help",):
        return Help()
    if tuple(words[:1]) == ("revert",):
        return Revert()
    try:
        request = parse_request(words)
    except BadArgumentsError as exc:
        return Malformed(str(exc))
    return Upgrade(request, branch_name(words))
