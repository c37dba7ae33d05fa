"""The GitHub client against the fake GitHub: tokens cached and refreshed once, batching, clean errors."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import GitHubAnswerError, GitHubError, TransientError
from bot.service.github import TOKEN_MARGIN, CheckOutput, GitHub
from bot.service.github_answers import CheckRunState, check_run_state, pull_info, valid_id
from tests.fakegithub.loopback import APP_ID
from tests.fakegithub.server import FakeGitHub


async def test_app_identity(github: GitHub) -> None:
    app = await github.app()
    assert (
        app.bot_login == "upgrade-deps[bot]"
        and app.bot_email == f"{APP_ID}+upgrade-deps[bot]@users.noreply.github.com"
    )


async def test_concurrent_jobs_refresh_the_token_once(fake: FakeGitHub, github: GitHub) -> None:
    tokens = await asyncio.gather(*(github.token(7) for _ in range(10)))
    assert len(set(tokens)) == 1
    assert [path for method, path, _ in fake.requests if path.endswith("/access_tokens")] == [
        "/app/installations/7/access_tokens"
    ]
    await github.token(8)
    assert len(fake.tokens) == 2


async def test_token_is_refreshed_shortly_before_it_expires(fake: FakeGitHub, github: GitHub) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=TOKEN_MARGIN - 60)
    fake.token_expiry = soon.strftime("%Y-%m-%dT%H:%M:%SZ")
    first = await github.token(7)
    fake.token_expiry = "2999-01-01T00:00:00Z"
    second = await github.token(7)
    third = await github.token(7)
    assert first != second == third


async def test_annotations_go_in_batches_of_fifty(fake: FakeGitHub, github: GitHub) -> None:
    run_id = await github.create_check_run(
        7, "o/r", head_sha="a" * 40, name="upgrade-deps", external_id="1-x", output=CheckOutput("t", "s")
    )
    notes = [
        {"path": "a.py", "start_line": i, "end_line": i, "annotation_level": "warning", "message": f"m{i}"}
        for i in range(1, 121)
    ]
    output = CheckOutput("T", "S", "X", notes)
    sent = await github.complete_check_run(7, "o/r", run_id, conclusion="failure", output=output)
    assert sent == 120
    run = fake.check_runs[run_id]
    assert [a["start_line"] for a in run["annotations"]] == list(range(1, 121))
    assert run["status"] == "completed" and run["conclusion"] == "failure"
    patches = [body for method, path, body in fake.requests if method == "PATCH"]
    assert [len(body["output"]["annotations"]) for body in patches] == [50, 50, 20]
    assert [body.get("status") for body in patches] == [None, None, "completed"]
    assert fake.errors == []


async def test_secondary_rate_limit_is_transient_with_retry_after(fake: FakeGitHub, github: GitHub) -> None:
    fake.failures["issues/create-comment"] = (403, {"Retry-After": "42"})
    with pytest.raises(TransientError) as caught:
        await github.comment(7, "o/r", 1, "hi")
    assert caught.value.retry_after == 42.0
    fake.failures["issues/create-comment"] = (502, {})
    with pytest.raises(TransientError):
        await github.comment(7, "o/r", 1, "hi")


async def test_refusals_name_the_call_never_the_token(fake: FakeGitHub, github: GitHub) -> None:
    token = await github.token(7)
    fake.failures["pulls/create"] = (422, {})
    with pytest.raises(GitHubError) as caught:
        await github.create_pull(7, "o/r", title="t", head="h", base="main", body="b")
    assert "POST /repos/o/r/pulls" in str(caught.value) and token not in str(caught.value)
    assert caught.value.status == 422


async def test_malformed_answers_are_our_error_naming_the_call(fake: FakeGitHub, github: GitHub) -> None:
    fake.failures["issues/create-comment"] = (201, {})  # "created", and no id in the answer
    with pytest.raises(GitHubAnswerError, match=r"^POST /repos/o/r/issues/3/comments: .* no valid id$"):
        await github.comment(7, "o/r", 3, "hello")
    for bad in (None, [], {}, {"id": "7"}, {"id": True}, {"id": -1}):
        with pytest.raises(GitHubAnswerError, match="no valid id"):
            valid_id(bad, "POST /x")
    with pytest.raises(GitHubAnswerError, match=r"GET /p: .* head or base"):
        pull_info({"number": 1, "head": None, "base": {}}, "GET /p")
    with pytest.raises(GitHubAnswerError, match="annotations_count"):
        check_run_state({"output": {"annotations_count": "3"}}, "GET /c")
    answer = {"status": "completed", "conclusion": "failure", "output": {"annotations_count": 3}}
    state = check_run_state(answer, "GET /c")
    assert state == CheckRunState("completed", "failure", 3)
