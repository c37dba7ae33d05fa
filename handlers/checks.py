"""check_run and check_suite `rerequested`: the Re-run button on our check runs the job again."""

from __future__ import annotations

from gidgethub.routing import Router
from gidgethub.sansio import Event

from bot.service.jobspec import Rerun
from handlers.intake import Intake, target
from handlers.payloads import App, CheckRunEvent, CheckSuiteEvent, Installation, Pulls, parse

router = Router()


def _ours(app: App | None, intake: Intake) -> bool:
    # GitHub's schema allows a null app (and app id): that is no check of ours to re-run.
    return app is not None and app.id == intake.app.app_id


def _numbers(pulls: Pulls) -> tuple[int, ...]:
    return tuple(pull.number for pull in pulls)


@router.register("check_run", action="rerequested")
async def check_run_rerequested(event: Event, intake: Intake) -> None:
    data = parse(event.data, CheckRunEvent)
    run = data.check_run
    if not isinstance(data.installation, Installation) or not _ours(run.app, intake):
        return
    intake.accepted.append(
        Rerun(
            target=target(data.repository, data.installation),
            head_sha=run.head_sha,
            head_branch=run.check_suite.head_branch or "",
            check_run_id=run.id,
            pulls=_numbers(run.pull_requests),
        )
    )


@router.register("check_suite", action="rerequested")
async def check_suite_rerequested(event: Event, intake: Intake) -> None:
    data = parse(event.data, CheckSuiteEvent)
    suite = data.check_suite
    if not isinstance(data.installation, Installation) or not _ours(suite.app, intake):
        return
    intake.accepted.append(
        Rerun(
            target=target(data.repository, data.installation),
            head_sha=suite.head_sha,
            head_branch=suite.head_branch or "",
            check_run_id=None,
            pulls=_numbers(suite.pull_requests),
        )
    )
