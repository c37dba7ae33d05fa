"""gidgethub's client with a meter on it: GitHub's answers by status, the rate limit each one reports."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp
from gidgethub.aiohttp import GitHubAPI

from bot.service.metrics import Metrics


class MeteredAPI(GitHubAPI):
    """gidgethub's client, counting each answer by status and noting the rate limit each one reports."""

    def __init__(
        self, session: aiohttp.ClientSession, *, requester: str, metrics: Metrics | None,
        installations: Mapping[str, int], base_url: str,
    ) -> None:  # fmt: skip
        super().__init__(session, requester, base_url=base_url)
        self._metrics = metrics
        self._installations = installations  # token -> installation, to label the rate limit

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        try:
            status, answer, data = await super()._request(method, url, headers, body)
        except (aiohttp.ClientError, TimeoutError):
            if self._metrics is not None:
                self._metrics.github_calls.labels(method=method, status="unreachable").inc()
            raise
        if self._metrics is not None:
            self._metrics.github_calls.labels(method=method, status=str(status)).inc()
            remaining = answer.get("x-ratelimit-remaining")
            if remaining is not None and remaining.isdigit():
                scheme, _, credential = headers.get("authorization", "").partition(" ")
                who = self._installations.get(credential) if scheme.lower() == "token" else None
                label = str(who) if who else "app"
                self._metrics.rate_remaining.labels(installation=label).set(int(remaining))
        return status, answer, data
