"""check_run and check_suite `rerequested`: the Re-run button on our check runs the job again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gidgethub.routing import Router
from gidgethub.sansio import Event

from bot.jobspec import Rerun
from handlers.intake import Intake, has_installation, target

router = Router()


def _pulls(item: Mapping[str, Any]) -> tuple[int, ...]:
    return tuple(int(pull["number"]) for pull in item.get("pull_requests") or ())


@router.register("check_run", action="rerequested")
async def check_run_rerequested(event: Event, intake: Intake) -> None:
    data = event.data
    run = data["check_run"]
    if not has_installation(data) or int(run.get("app", {}).get("id", -1)) != intake.app.app_id:
        return
    suite = run.get("check_suite") or {}
    intake.accepted.append(
        Rerun(
            target=target(data),
            head_sha=str(run["head_sha"]),
            head_branch=str(suite.get("head_branch") or ""),
            check_run_id=int(run["id"]),
            pulls=_pulls(run),
        )
    )


@router.register("check_suite", action="rerequested")
async def check_suite_rerequested(event: Event, intake: Intake) -> None:
    data = event.data
    suite = data["check_suite"]
    if not has_installation(data) or int(suite.get("app", {}).get("id", -1)) != intake.app.app_id:
        return
    intake.accepted.append(
        Rerun(
            target=target(data),
            head_sha=str(suite["head_sha"]),
            head_branch=str(suite.get("head_branch") or ""),
            check_run_id=None,
            pulls=_pulls(suite),
        )
    )
