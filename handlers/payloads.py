"""Webhook payloads parsed at the edge: the fields the handlers read, typed and shape-checked, nothing else.

Each event the app acts on has a frozen dataclass here; msgspec converts the decoded JSON into it
(strictly: a boolean is not an integer, a number is not a string, `null` only where GitHub's webhook
schema allows it) and ignores every field we do not read. Nullable fields follow GitHub's description
(`shared/fixtures/github/webhooks-openapi-subset.json`); `installation` is absent, never `null`, on a
repository hook's delivery.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import msgspec
from msgspec import UNSET, Meta, UnsetType

from bot.errors import PayloadError
from bot.service.shapes import (
    Body,
    Branch,
    BranchOrNone,
    CloneUrl,
    FullName,
    Id,
    Login,
    Sha,
    Title,
    Word,
    clone_url_problem,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Installation:
    id: Id


@dataclass(frozen=True)
class User:
    login: Login
    type: Word = "User"


@dataclass(frozen=True)
class Repository:
    full_name: FullName
    clone_url: CloneUrl
    default_branch: Branch

    def __post_init__(self) -> None:
        problem = clone_url_problem(self.clone_url, self.full_name)
        if problem:
            raise ValueError(f"clone_url {problem}")


# issue_comment
@dataclass(frozen=True)
class Comment:
    id: Id
    body: Body
    user: User | None  # GitHub's schema allows null (an account that no longer exists)


@dataclass(frozen=True)
class PullLink:
    """`issue.pull_request`: only whether it is there matters (the comment is on a pull request)."""


@dataclass(frozen=True)
class IssueRef:
    number: Id
    title: Title
    pull_request: PullLink | UnsetType = UNSET


@dataclass(frozen=True)
class IssueComment:
    comment: Comment
    issue: IssueRef
    repository: Repository
    installation: Installation | UnsetType = UNSET


# pull_request
@dataclass(frozen=True)
class HeadRepo:
    full_name: FullName
    clone_url: CloneUrl

    def __post_init__(self) -> None:
        problem = clone_url_problem(self.clone_url, self.full_name)
        if problem:
            raise ValueError(f"clone_url {problem}")


@dataclass(frozen=True)
class Head:
    ref: Branch
    sha: Sha
    repo: HeadRepo | None  # null when the fork was deleted


@dataclass(frozen=True)
class Base:
    ref: Branch
    sha: Sha


@dataclass(frozen=True)
class Pull:
    number: Id
    state: Word
    title: Title
    body: Body | None
    user: User | None  # the synchronize schema allows null
    head: Head
    base: Base


@dataclass(frozen=True)
class PullRequest:
    pull_request: Pull
    repository: Repository
    sender: User
    installation: Installation | UnsetType = UNSET


# check_run, check_suite
@dataclass(frozen=True)
class App:
    id: Id | None  # null in check_suite's schema


@dataclass(frozen=True)
class PullNumber:
    number: Id


Pulls = Annotated[tuple[PullNumber, ...], Meta(max_length=1000)]


@dataclass(frozen=True)
class SuiteOfRun:
    head_branch: BranchOrNone | None = None


@dataclass(frozen=True)
class CheckRunFields:
    id: Id
    head_sha: Sha
    app: App | None  # null in check_run's schema
    check_suite: SuiteOfRun
    pull_requests: Pulls


@dataclass(frozen=True)
class CheckRunEvent:
    check_run: CheckRunFields
    repository: Repository
    installation: Installation | UnsetType = UNSET


@dataclass(frozen=True)
class CheckSuite:
    head_sha: Sha
    head_branch: Branch | None
    app: App
    pull_requests: Pulls


@dataclass(frozen=True)
class CheckSuiteEvent:
    check_suite: CheckSuite
    repository: Repository
    installation: Installation | UnsetType = UNSET


def parse(data: Mapping[str, Any], kind: type[T]) -> T:
    """`data` as `kind`; PayloadError naming the field (`$.pull_request.head.sha`) and what is wrong."""
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as exc:
        raise PayloadError(_reason(str(exc))) from None


def check_action(data: Mapping[str, Any]) -> None:
    """The routers look `action` up in a table: it must be a string when it is there."""
    action = data.get("action")
    if action is not None and not isinstance(action, str):
        raise PayloadError(f"Expected `str`, got `{type(action).__name__}` - at `$.action`")


def _reason(message: str) -> str:
    """msgspec's message, without the regular expression a string failed (the path says which field)."""
    problem, at, where = message.rpartition(" - at ")
    if not at:
        problem, where = message, "`$`"
    if problem.startswith("Expected `str` matching regex"):
        problem = "Expected `str` in the shape GitHub gives it"
    return f"{problem} - at {where}"
