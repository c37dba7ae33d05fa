"""What a job must do, parsed once from the webhook payload at the edge; stored as JSON (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    """The repository a job works on, and the installation that grants access to it."""

    installation: int
    repo: str  # "owner/name"
    clone_url: str
    default_branch: str


@dataclass(frozen=True)
class Command:
    """`/upgrade-deps ...` commented on an issue or a pull request."""

    target: Target
    number: int
    is_pull: bool
    comment_id: int
    author: str
    words: tuple[str, ...]  # what followed `/upgrade-deps` on its line
    title: str  # the title, to name the branch and PR


@dataclass(frozen=True)
class BotPull:
    """A pull request opened or updated, possibly by a dependency bot."""

    target: Target
    number: int
    author: str
    author_is_bot: bool
    head_ref: str
    head_sha: str
    head_repo: str
    base_ref: str
    base_sha: str
    title: str
    body: str


@dataclass(frozen=True)
class Rerun:
    """Re-run requested on our check run (check_run_id set) or on our check suite."""

    target: Target
    head_sha: str
    head_branch: str
    check_run_id: int | None
    pulls: tuple[int, ...]


Spec = Command | BotPull | Rerun
KINDS: dict[str, type[Command] | type[BotPull] | type[Rerun]] = {
    "command": Command,
    "bot-pull": BotPull,
    "rerun": Rerun,
}


def kind_of(spec: Spec) -> str:
    return next(kind for kind, cls in KINDS.items() if isinstance(spec, cls))


def dumps(spec: Spec) -> str:
    # vars() rather than dataclasses.asdict: no deep copies on the request path (the specs are flat).
    return json.dumps(spec, default=vars, separators=(",", ":"))


def loads(kind: str, text: str) -> Spec:
    """The spec a stored job holds; a kind we do not know is a programming error."""
    data: dict[str, Any] = json.loads(text)
    data["target"] = Target(**data["target"])
    for key in ("words", "pulls"):
        if key in data:
            data[key] = tuple(data[key])
    return KINDS[kind](**data)


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
