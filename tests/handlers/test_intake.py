"""The intake routers on real payloads: which deliveries become which jobs (no I/O)."""

from __future__ import annotations

from typing import Any

from gidgethub.sansio import Event

from bot.service import jobspec
from bot.service.commands import parse_command
from bot.service.jobspec import BotPull, Command, Rerun
from handlers import router
from handlers.intake import AppIdentity, Intake
from handlers.issue_comment import command_words
from tests.support.webhooks import payload

APP = AppIdentity(app_id=29310, bot_login="upgrade-deps[bot]")


async def accepted(event: str, data: dict[str, Any]) -> list[jobspec.Spec]:
    intake = Intake(APP)
    await router.dispatch(Event(data, event=event, delivery_id="d"), intake)
    return intake.accepted


def test_command_words() -> None:
    assert command_words("/upgrade-deps sglang==0.5.10 torch==2.10.0@vllm\nthanks") == (
        "sglang==0.5.10", "torch==2.10.0@vllm",
    )  # fmt: skip
    assert command_words("  /upgrade-deps help") == ("help",)
    assert command_words("/upgrade-depsx a==1") is None
    assert command_words("please /upgrade-deps a==1") is None
    assert command_words('/upgrade-deps "a==1') == ('"a==1',)


async def test_issue_comment_command_becomes_a_job_and_round_trips() -> None:
    data = payload("issue_comment.created.with-installation")
    data["comment"]["body"] = "/upgrade-deps sglang==0.5.10"
    [spec] = await accepted("issue_comment", data)
    assert isinstance(spec, Command)
    assert (spec.number, spec.is_pull, spec.author, spec.asked) == (
        1,
        False,
        "Codertocat",
        parse_command(("sglang==0.5.10",)),
    )
    assert spec.target.installation == 1 and spec.target.repo == "Codertocat/Hello-World"
    assert jobspec.loads("command", jobspec.dumps(spec)) == spec
    assert jobspec.subject(spec) == "Codertocat/Hello-World#1" and jobspec.coalesce_key(spec) is None


async def test_comments_that_are_not_commands_or_come_from_bots_or_repo_hooks_are_ignored() -> None:
    plain = payload("issue_comment.created.with-installation")
    assert await accepted("issue_comment", plain) == []
    bot = payload("issue_comment.created.pull-request")
    bot["comment"]["body"] = "/upgrade-deps a==1"
    bot["comment"]["user"]["type"] = "Bot"
    assert await accepted("issue_comment", bot) == []
    repo_hook = payload("issue_comment.created")  # no installation: not a delivery to the app
    repo_hook["comment"]["body"] = "/upgrade-deps a==1"
    assert await accepted("issue_comment", repo_hook) == []


async def test_pull_request_events_coalesce_per_pull_request() -> None:
    jobs = [await accepted("pull_request", payload(name)) for name in
            ("pull_request.opened", "pull_request.synchronize", "pull_request.reopened")]  # fmt: skip
    specs = [spec for batch in jobs for spec in batch]
    assert all(isinstance(spec, BotPull) for spec in specs) and len(specs) == 3
    assert {jobspec.coalesce_key(spec) for spec in specs} == {"Codertocat/Hello-World#2:pull"}
    null_body = (await accepted("pull_request", payload("pull_request.opened.with-null-body")))[0]
    assert isinstance(null_body, BotPull) and null_body.body == ""


async def test_own_push_does_not_loop() -> None:
    data = payload("pull_request.synchronize")
    data["sender"]["login"] = "upgrade-deps[bot]"
    assert await accepted("pull_request", data) == []


async def test_rerequested_only_for_our_app() -> None:
    suite = payload("check_suite.rerequested")  # app 29310 is ours here
    [spec] = await accepted("check_suite", suite)
    assert isinstance(spec, Rerun) and spec.pulls == (2,) and spec.check_run_id is None
    run = payload("check_run.rerequested")  # app 2 is someone else's
    assert await accepted("check_run", run) == []
    run["check_run"]["app"]["id"] = 29310
    [spec] = await accepted("check_run", run)
    assert isinstance(spec, Rerun) and spec.check_run_id == run["check_run"]["id"]
