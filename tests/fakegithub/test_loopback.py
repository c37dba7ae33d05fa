"""The shared fake GitHub fails its block on a request the REST description refuses, and only then."""

from __future__ import annotations

import aiohttp
import pytest

from bot.service.github import GitHub
from tests.fakegithub.loopback import APP_ID, running_fake
from tests.fakegithub.server import FakeGitHub
from tests.support.appkeys import key_pair

OFF_THE_DESCRIPTION = "POST /repos/o/r/issues/1/comments: issues/create-comment: : 'body' is a required"


async def comment(fake: FakeGitHub, body: dict[str, object]) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.url}/repos/o/r/issues/1/comments", json=body) as response,
    ):
        return response.status


async def test_a_refused_request_fails_the_block_after_it() -> None:
    with pytest.raises(AssertionError) as caught:
        async with running_fake() as fake:
            assert await comment(fake, {"text": "no body"}) == 422
    assert OFF_THE_DESCRIPTION in str(caught.value)


async def test_a_failing_block_keeps_its_error_and_is_told_what_was_refused() -> None:
    # The error must leave through the block's exit, which is what adds the note.
    with pytest.raises(LookupError) as caught:  # noqa: PT012
        async with running_fake() as fake:
            await comment(fake, {"text": "no body"})
            raise LookupError("the test's own failure")
    assert any(OFF_THE_DESCRIPTION in note for note in caught.value.__notes__)


async def test_a_block_whose_requests_were_all_accepted_ends_cleanly() -> None:
    async with running_fake() as fake, aiohttp.ClientSession() as session:
        github = GitHub(session, app_id=str(APP_ID), private_key=key_pair()[0], api_url=fake.url)
        assert (await github.app()).slug == "upgrade-deps"
    assert [path for _, path, _ in fake.requests] == ["/app"] and fake.errors == []
