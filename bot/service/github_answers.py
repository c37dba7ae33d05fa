"""GitHub's answers parsed into our types, defensively: a malformed answer is our error, naming the call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.errors import GitHubAnswerError


@dataclass(frozen=True)
class AppInfo:
    """The app itself, as `GET /app` says: its id and slug, and the bot they make."""

    id: int
    slug: str

    @property
    def bot_login(self) -> str:
        return f"{self.slug}[bot]"

    @property
    def bot_email(self) -> str:
        return f"{self.id}+{self.slug}[bot]@users.noreply.github.com"


@dataclass(frozen=True)
class PullInfo:
    """The parts of a pull request a job needs."""

    number: int
    head_ref: str
    head_sha: str
    head_repo: str  # full name; differs from the base repository for forks
    head_clone_url: str
    base_ref: str
    base_sha: str
    author: str
    html_url: str


@dataclass(frozen=True)
class CheckRunState:
    """What GitHub says of a check run: where it is and how many annotations it holds."""

    status: str
    conclusion: str | None
    annotations_count: int


def _count(value: Any) -> int | None:
    return None if isinstance(value, bool) or not isinstance(value, int) else value


def valid_id(data: Any, what: str, key: str = "id") -> int:
    """A positive integer id from GitHub's answer; the error never quotes the answer."""
    value = _count(data.get(key)) if isinstance(data, Mapping) else None
    if value is None or value <= 0:
        raise GitHubAnswerError(f"{what}: GitHub's answer has no valid {key}")
    return value


def login_of(item: Mapping[str, Any]) -> str | None:
    """The login of an item's `user` (a comment's author), None when it has none."""
    user = item.get("user")
    login = user.get("login") if isinstance(user, Mapping) else None
    return login if isinstance(login, str) else None


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise TypeError(key)
    return value


def pull_info(data: Any, what: str) -> PullInfo:
    try:
        head, base = data["head"], data["base"]
        head_repo = head.get("repo") or {}  # null when the fork was deleted
        return PullInfo(
            number=valid_id(data, what, "number"),
            head_ref=_text(head, "ref"),
            head_sha=_text(head, "sha"),
            head_repo=str(head_repo.get("full_name", "")),
            head_clone_url=str(head_repo.get("clone_url", "")),
            base_ref=_text(base, "ref"),
            base_sha=_text(base, "sha"),
            author=login_of(data) or "",
            html_url=str(data.get("html_url", "")),
        )
    except (KeyError, TypeError, AttributeError):
        raise GitHubAnswerError(f"{what}: GitHub's answer lacks the pull request's head or base") from None


def check_run_state(data: Any, what: str) -> CheckRunState:
    output = data.get("output") if isinstance(data, Mapping) else None
    count = _count(output.get("annotations_count")) if isinstance(output, Mapping) else None
    if count is None or count < 0:
        raise GitHubAnswerError(f"{what}: GitHub's answer has no valid output.annotations_count")
    assert isinstance(data, Mapping)  # noqa: S101 - the count read above required an object
    conclusion = data.get("conclusion")
    return CheckRunState(
        str(data.get("status", "")), conclusion if isinstance(conclusion, str) else None, count
    )
