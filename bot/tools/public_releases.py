"""GitHub releases of public repositories, read anonymously: the release notes source of a local run."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from bot.errors import ReleaseNotesError
from bot.model import Release
from bot.tools.release_index import Get, http_getter

PUBLIC_API = "https://api.github.com"
ACCEPT = "application/vnd.github+json"


def release_of(item: Any) -> Release | None:
    """A release from GitHub's answer; drafts and anything malformed are left out."""
    if not isinstance(item, dict) or item.get("draft") is True:
        return None
    tag, url = item.get("tag_name"), item.get("html_url")
    if not isinstance(tag, str) or not tag:
        return None
    name, body = item.get("name"), item.get("body")
    return Release(
        tag=tag,
        name=name if isinstance(name, str) else "",
        url=url if isinstance(url, str) else "",
        body=body if isinstance(body, str) else "",
    )


class PublicReleases:
    """Unauthenticated calls to GitHub's public REST API (60 an hour per address: cached by the caller)."""

    def __init__(self, api_url: str = PUBLIC_API, *, get: Get | None = None) -> None:
        self._api = api_url.rstrip("/")
        self._given = get

    async def _get(self, url: str, accept: str) -> bytes:
        if self._given is not None:
            return await self._given(url, accept)
        import aiohttp

        async with aiohttp.ClientSession() as session:
            return await http_getter(session)(url, accept)

    async def _json(self, url: str) -> Any:
        try:
            return json.loads(await self._get(url, ACCEPT))
        except ValueError:
            raise ReleaseNotesError(f"GitHub's answer for {url} is not JSON") from None

    async def list_releases(self, repo: str) -> Sequence[Release]:
        data = await self._json(f"{self._api}/repos/{repo}/releases?per_page=100")
        if not isinstance(data, list):
            raise ReleaseNotesError(f"GitHub's answer for {repo}'s releases is not a list")
        return [release for item in data if (release := release_of(item)) is not None]

    async def release_by_tag(self, repo: str, tag: str) -> Release | None:
        try:
            data = await self._json(f"{self._api}/repos/{repo}/releases/tags/{quote(tag, safe='')}")
        except ReleaseNotesError as exc:
            if exc.status == 404:
                return None
            raise
        return release_of(data)
