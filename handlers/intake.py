"""What every intake handler shares: the app's identity and the sink for the jobs it accepts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.jobspec import Spec, Target


@dataclass(frozen=True)
class AppIdentity:
    app_id: int
    bot_login: str  # "<slug>[bot]"


@dataclass
class Intake:
    """Passed to the routers' callbacks: who we are, and where accepted jobs go (no I/O here)."""

    app: AppIdentity
    accepted: list[Spec] = field(default_factory=list)


def target(data: Mapping[str, Any]) -> Target:
    repo = data["repository"]
    return Target(
        installation=int(data["installation"]["id"]),
        repo=str(repo["full_name"]),
        clone_url=str(repo["clone_url"]),
        default_branch=str(repo.get("default_branch") or "main"),
    )


def has_installation(data: Mapping[str, Any]) -> bool:
    """Only deliveries to an installation of the app can be acted on (repository hooks have none)."""
    installation = data.get("installation")
    return isinstance(installation, Mapping) and "id" in installation and "repository" in data
