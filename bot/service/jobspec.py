"""What a job must do, parsed once from the webhook payload at the edge; stored as JSON (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import msgspec
from msgspec import Meta

from bot.errors import JobSpecError
from bot.service.commands import Asked
from bot.service.shapes import (
    Body,
    Branch,
    BranchOrNone,
    CloneUrl,
    FullName,
    FullNameOrNone,
    Id,
    Login,
    Sha,
    Title,
)


@dataclass(frozen=True)
class JobTarget:
    """The repository a job works on, and the installation that grants access to it."""

    installation: Id
    repo: FullName  # "owner/name"
    clone_url: CloneUrl
    default_branch: Branch


@dataclass(frozen=True)
class Command:
    """`/upgrade-deps ...` commented on an issue or a pull request."""

    target: JobTarget
    number: Id
    is_pull: bool
    comment_id: Id
    author: Login
    asked: Asked  # what followed `/upgrade-deps` on its line, parsed
    title: Title  # the title, to name the branch and PR


@dataclass(frozen=True)
class BotPull:
    """A pull request opened or updated, possibly by a dependency bot."""

    target: JobTarget
    number: Id
    author: Login
    author_is_bot: bool
    head_ref: Branch
    head_sha: Sha
    head_repo: FullNameOrNone  # empty when the fork was deleted
    base_ref: Branch
    base_sha: Sha
    title: Title
    body: Body


@dataclass(frozen=True)
class Rerun:
    """Re-run requested on our check run (check_run_id set) or on our check suite."""

    target: JobTarget
    head_sha: Sha
    head_branch: BranchOrNone
    check_run_id: Id | None
    pulls: Annotated[tuple[Id, ...], Meta(max_length=1000)]


Spec = Command | BotPull | Rerun
KINDS: dict[str, type[Command] | type[BotPull] | type[Rerun]] = {
    "command": Command,
    "bot-pull": BotPull,
    "rerun": Rerun,
}


def kind_of(spec: Spec) -> str:
    return next(kind for kind, cls in KINDS.items() if isinstance(spec, cls))


def dumps(spec: Spec) -> str:
    return msgspec.json.encode(spec).decode()


def loads(kind: str, text: str) -> Spec:
    """The spec a stored job holds, checked as the edge checked it; JobSpecError if it is not one."""
    cls = KINDS.get(kind)
    if cls is None:
        raise JobSpecError(f"stored job spec of unknown kind {kind[:40]!r}")
    try:
        spec: Spec = msgspec.json.decode(text, type=cls)
    except (msgspec.DecodeError, msgspec.ValidationError, TypeError) as exc:
        raise JobSpecError(f"stored {kind} job spec: {str(exc)[:300]}") from None
    return spec


def subject(spec: Spec) -> str:
    """Jobs with the same subject run one at a time (one pull request or issue, or one head)."""
    if isinstance(spec, Command | BotPull):
        return f"{spec.target.repo}#{spec.number}"
    if spec.pulls:
        return f"{spec.target.repo}#{spec.pulls[0]}"
    return f"{spec.target.repo}@{spec.head_branch or spec.head_sha}"


def coalesce_key(spec: Spec) -> str | None:
    """Queued jobs with the same key are superseded by the newest: a newer push makes older ones moot."""
    if isinstance(spec, BotPull):
        return f"{spec.target.repo}#{spec.number}:pull"
    if isinstance(spec, Rerun):
        return f"{subject(spec)}:rerun"
    return None  # every command is its own request
