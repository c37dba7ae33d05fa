"""What every intake handler shares: the app's identity and the sink for the jobs it accepts."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.service.jobspec import JobTarget, Spec
from handlers.payloads import Installation, Repository


@dataclass(frozen=True)
class AppIdentity:
    app_id: int
    bot_login: str  # "<slug>[bot]"


@dataclass
class Intake:
    """Passed to the routers' callbacks: who we are, and where accepted jobs go (no I/O here)."""

    app: AppIdentity
    accepted: list[Spec] = field(default_factory=list)


def target(repository: Repository, installation: Installation) -> JobTarget:
    return JobTarget(
        installation=installation.id,
        repo=repository.full_name,
        clone_url=repository.clone_url,
        default_branch=repository.default_branch,
    )
