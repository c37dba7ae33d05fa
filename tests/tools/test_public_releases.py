"""The anonymous release source of a local run, against a loopback stand-in for GitHub's public API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.errors import ReleaseNotesError
from bot.model import Release
from bot.tools.public_releases import PublicReleases
from tests.support.http import serving

RELEASES = [
    {"tag_name": "v2", "name": "Two", "html_url": "https://github.com/o/r/releases/tag/v2", "body": "B"},
    {"tag_name": "v3", "draft": True, "body": "not yet"},  # a draft is no release
    {"tag_name": "", "body": "no tag"},
    "not an object",
    {"tag_name": "v1", "name": None, "body": None},
]


def _public_api() -> web.Application:
    async def releases(request: web.Request) -> web.Response:
        assert "Authorization" not in request.headers and request.query["per_page"] == "100"
        answers = {"r": web.json_response(RELEASES), "object": web.json_response({"message": "?"}),
                   "html": web.Response(text="<html>rate limited</html>")}  # fmt: skip
        return answers[request.match_info["repo"]]

    async def tag(request: web.Request) -> web.Response:
        if request.match_info["tag"] == "v 2/x":  # quoted as one path segment
            return web.json_response(RELEASES[0])
        if request.match_info["tag"] == "broken":
            return web.json_response({"message": "boom"}, status=500)
        return web.json_response({"message": "Not Found"}, status=404)

    app = web.Application()
    app.router.add_get("/repos/o/{repo}/releases", releases)
    app.router.add_get("/repos/o/{repo}/releases/tags/{tag}", tag)
    return app


@pytest.fixture
async def source() -> AsyncIterator[PublicReleases]:
    async with serving(_public_api()) as url:
        yield PublicReleases(url)


async def test_releases_are_read_without_credentials_and_drafts_left_out(source: PublicReleases) -> None:
    assert list(await source.list_releases("o/r")) == [
        Release(tag="v2", name="Two", url="https://github.com/o/r/releases/tag/v2", body="B"),
        Release(tag="v1", name="", url="", body=""),
    ]
    assert await source.release_by_tag("o/r", "v 2/x") == Release(
        tag="v2", name="Two", url="https://github.com/o/r/releases/tag/v2", body="B"
    )
    assert await source.release_by_tag("o/r", "v9") is None  # no such release: none, not an error


async def test_answers_that_are_not_releases_are_errors_naming_the_call(source: PublicReleases) -> None:
    with pytest.raises(ReleaseNotesError, match="o/object's releases is not a list"):
        await source.list_releases("o/object")
    with pytest.raises(ReleaseNotesError, match=r"releases\?per_page=100 is not JSON"):
        await source.list_releases("o/html")
    with pytest.raises(ReleaseNotesError, match="answered 500") as caught:
        await source.release_by_tag("o/r", "broken")
    assert caught.value.status == 500
