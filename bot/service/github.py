"""The one module that calls the GitHub REST API: app JWT, cached installation tokens, our calls."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
import gidgethub
from gidgethub import apps

from bot.errors import GitHubAnswerError, GitHubError, TransientError
from bot.model import Release
from bot.service.github_answers import AppInfo as AppInfo
from bot.service.github_answers import CheckRunState, check_run_state, login_of, pull_info, valid_id
from bot.service.github_answers import PullInfo as PullInfo
from bot.service.github_metering import MeteredAPI
from bot.service.metrics import Metrics
from bot.tools.public_releases import release_of

log = logging.getLogger("upgrade-deps.github")

# Refresh an installation token this long before GitHub says it expires (tokens live an hour).
TOKEN_MARGIN = 300.0
REQUESTER = "upgrade-deps"
ANNOTATIONS_PER_CALL = 50  # GitHub's maxItems for output.annotations


def _failed(what: str, status: int | str, reason: str) -> None:
    log.warning("GitHub call failed", extra={"call": what, "status": status, "reason": reason})


@dataclass(frozen=True)
class CheckOutput:
    """A check run's `output`: its title and summary, the text under them, its annotations."""

    title: str
    summary: str
    text: str | None = None
    annotations: Sequence[Mapping[str, Any]] = ()

    def fields(self) -> dict[str, Any]:
        """The `output` object without its annotations (they go 50 a call)."""
        shown = {"title": self.title, "summary": self.summary}
        return shown if self.text is None else {**shown, "text": self.text}


@contextlib.asynccontextmanager
async def _calling(what: str, expected: tuple[int, ...] = ()) -> AsyncIterator[None]:
    """Turn client and HTTP failures into our errors, logged; messages name the call, never credentials."""
    try:
        yield
    except gidgethub.RateLimitExceeded as exc:
        _failed(what, int(exc.status_code), "rate limit exhausted")
        wait = exc.rate_limit.reset_datetime.timestamp() - time.time() if exc.rate_limit else 60.0
        raise TransientError(f"{what}: GitHub rate limit exhausted", retry_after=max(1.0, wait)) from None
    except gidgethub.GitHubBroken as exc:
        _failed(what, int(exc.status_code), "GitHub error")
        raise TransientError(f"{what}: GitHub answered {int(exc.status_code)}") from None
    except gidgethub.BadRequest as exc:
        status = int(exc.status_code)
        retry_after = exc.headers.get("retry-after")
        if status not in expected:  # a 404 that answers "is there such a file?" is no failure
            _failed(what, status, "secondary rate limit" if retry_after is not None else "refused")
        if status in (403, 429) and retry_after is not None:  # secondary rate limit
            raise TransientError(f"{what}: secondary rate limit", retry_after=float(retry_after)) from None
        raise GitHubError(f"{what}: GitHub answered {status} ({exc})", status=status) from None
    except gidgethub.HTTPException as exc:
        _failed(what, int(exc.status_code), "unexpected answer")
        raise GitHubError(
            f"{what}: GitHub answered {int(exc.status_code)}", status=int(exc.status_code)
        ) from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        _failed(what, "unreachable", type(exc).__name__)
        raise TransientError(f"{what}: cannot reach GitHub ({type(exc).__name__})") from None


class GitHub:
    """GitHub for one app: every call takes the installation it acts for."""

    def __init__(
        self, session: aiohttp.ClientSession, *, app_id: str, private_key: str, api_url: str,
        metrics: Metrics | None = None,
    ) -> None:  # fmt: skip
        self._installations: dict[str, int] = {}
        self._gh = MeteredAPI(session, requester=REQUESTER, metrics=metrics,
                              installations=self._installations, base_url=api_url)  # fmt: skip
        self._app_id = app_id
        self._key = private_key
        self._tokens: dict[int, tuple[str, float]] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def _jwt(self) -> str:
        return apps.get_jwt(app_id=self._app_id, private_key=self._key)

    async def app(self) -> AppInfo:
        async with _calling("GET /app"):
            data = await self._gh.getitem("/app", jwt=self._jwt())
        slug = data.get("slug") if isinstance(data, Mapping) else None
        if not isinstance(slug, str) or not slug:
            raise GitHubAnswerError("GET /app: GitHub's answer has no valid slug")
        return AppInfo(id=valid_id(data, "GET /app"), slug=slug)

    async def token(self, installation: int) -> str:
        """An installation token, from the cache while it has more than TOKEN_MARGIN seconds left."""
        lock = self._locks.setdefault(installation, asyncio.Lock())
        async with lock:  # concurrent jobs of one installation refresh once
            cached = self._tokens.get(installation)
            if cached and cached[1] - TOKEN_MARGIN > time.time():
                return cached[0]
            async with _calling(f"POST /app/installations/{installation}/access_tokens"):
                data = await apps.get_installation_access_token(
                    self._gh, installation_id=str(installation), app_id=self._app_id, private_key=self._key
                )
            expires = datetime.fromisoformat(str(data["expires_at"]).replace("Z", "+00:00")).timestamp()
            self._tokens[installation] = (str(data["token"]), expires)
            self._installations[str(data["token"])] = installation
            return str(data["token"])

    async def _call(
        self, method: str, installation: int, url: str, data: Any = b"", *, expected: tuple[int, ...] = (),
        **kw: Any,
    ) -> Any:  # fmt: skip
        token = await self.token(installation)
        async with _calling(f"{method} {url}", expected):
            if method == "GET":
                return await self._gh.getitem(url, oauth_token=token, **kw)
            if method == "POST":
                return await self._gh.post(url, data=data, oauth_token=token, **kw)
            if method == "PATCH":
                return await self._gh.patch(url, data=data, oauth_token=token, **kw)
        raise ValueError(method)

    async def _all(
        self, installation: int, url: str, url_vars: Mapping[str, str] | None = None, *, key: str = "items"
    ) -> list[Mapping[str, Any]]:
        """Every item of a paginated list; anything in it that is not an object is skipped."""
        token = await self.token(installation)
        async with _calling(f"GET {url}"):
            items = [item async for item in self._gh.getiter(url, url_vars or {}, oauth_token=token,
                                                             iterable_key=key)]  # fmt: skip
        return [item for item in items if isinstance(item, Mapping)]

    # Repositories and people
    async def permission(self, installation: int, repo: str, user: str) -> str:
        """The user's role on the repository: admin, maintain, write, triage, read or none."""
        data = await self._call("GET", installation, f"/repos/{repo}/collaborators/{{user}}/permission",
                                url_vars={"user": user})  # fmt: skip
        return str(data.get("role_name") or data.get("permission") or "none")

    async def file_text(self, installation: int, repo: str, path: str, *, ref: str) -> str | None:
        """A text file of the repository at `ref`, or None when it does not exist there."""
        try:
            data = await self._call("GET", installation, f"/repos/{repo}/contents/{path}{{?ref}}",
                                    url_vars={"ref": ref}, expected=(404,))  # fmt: skip
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise
        if not isinstance(data, Mapping) or data.get("encoding") != "base64":
            return None  # a directory, a symlink or a submodule
        return base64.b64decode(str(data.get("content", ""))).decode("utf-8", errors="replace")

    # Pull requests
    async def pull(self, installation: int, repo: str, number: int) -> PullInfo:
        what = f"GET /repos/{repo}/pulls/{number}"
        return pull_info(await self._call("GET", installation, f"/repos/{repo}/pulls/{number}"), what)

    async def find_pull(self, installation: int, repo: str, head: str) -> tuple[int, str] | None:
        """The open pull request from `head` ("owner:branch"), as (number, html_url)."""
        what = f"GET /repos/{repo}/pulls"
        items = await self._call("GET", installation, f"/repos/{repo}/pulls{{?head,state}}",
                                 url_vars={"head": head, "state": "open"})  # fmt: skip
        if not isinstance(items, list):
            raise GitHubAnswerError(f"{what}: GitHub's answer is not a list")
        if not items:
            return None
        return valid_id(items[0], what, "number"), str(items[0].get("html_url", ""))

    async def create_pull(
        self, installation: int, repo: str, *, title: str, head: str, base: str, body: str
    ) -> tuple[int, str]:
        data = await self._call("POST", installation, f"/repos/{repo}/pulls",
                                {"title": title, "head": head, "base": base, "body": body})  # fmt: skip
        return valid_id(data, f"POST /repos/{repo}/pulls", "number"), str(data.get("html_url", ""))

    async def pull_files(self, installation: int, repo: str, number: int) -> list[tuple[str, str]]:
        """(filename, patch) of each changed file; the patch is empty for binary or huge files."""
        items = await self._all(installation, f"/repos/{repo}/pulls/{number}/files")
        return [(str(item.get("filename", "")), str(item.get("patch") or "")) for item in items]

    async def review_comment_bodies(
        self, installation: int, repo: str, number: int, *, author: str
    ) -> list[str]:
        """The bodies of the review comments `author` wrote on the pull request."""
        items = await self._all(installation, f"/repos/{repo}/pulls/{number}/comments")
        return [str(item.get("body", "")) for item in items if login_of(item) == author]

    async def create_review(
        self, installation: int, repo: str, number: int, *, commit: str, body: str,
        comments: Sequence[Mapping[str, Any]],
    ) -> int:  # fmt: skip
        data = await self._call("POST", installation, f"/repos/{repo}/pulls/{number}/reviews",
                                {"commit_id": commit, "body": body, "event": "COMMENT",
                                 "comments": list(comments)})  # fmt: skip
        return valid_id(data, f"POST /repos/{repo}/pulls/{number}/reviews")

    # Comments and reactions
    async def comment(self, installation: int, repo: str, number: int, body: str) -> int:
        data = await self._call(
            "POST", installation, f"/repos/{repo}/issues/{number}/comments", {"body": body}
        )
        return valid_id(data, f"POST /repos/{repo}/issues/{number}/comments")

    async def edit_comment(self, installation: int, repo: str, comment_id: int, body: str) -> None:
        await self._call("PATCH", installation, f"/repos/{repo}/issues/comments/{comment_id}", {"body": body})

    async def find_comment(
        self, installation: int, repo: str, number: int, *, marker: str, author: str
    ) -> int | None:
        """The first comment by `author` containing the hidden `marker`."""
        what = f"GET /repos/{repo}/issues/{number}/comments"
        for item in await self._all(installation, f"/repos/{repo}/issues/{number}/comments"):
            if login_of(item) == author and marker in str(item.get("body", "")):
                return valid_id(item, what)
        return None

    async def react(self, installation: int, repo: str, comment_id: int, content: str) -> None:
        await self._call("POST", installation, f"/repos/{repo}/issues/comments/{comment_id}/reactions",
                         {"content": content})  # fmt: skip

    # Releases (the release notes of upgraded packages: any public repository, read with the token)
    async def list_releases(self, installation: int, repo: str) -> list[Release]:
        items = await self._call("GET", installation, f"/repos/{repo}/releases{{?per_page}}",
                                 url_vars={"per_page": "100"}, expected=(404,))  # fmt: skip
        if not isinstance(items, list):
            raise GitHubAnswerError(f"GET /repos/{repo}/releases: GitHub's answer is not a list")
        return [release for item in items if (release := release_of(item)) is not None]

    async def release_by_tag(self, installation: int, repo: str, tag: str) -> Release | None:
        try:
            data = await self._call("GET", installation, f"/repos/{repo}/releases/tags/{{tag}}",
                                    url_vars={"tag": tag}, expected=(404,))  # fmt: skip
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise
        return release_of(data)

    # Check runs
    async def create_check_run(
        self, installation: int, repo: str, *, head_sha: str, name: str, external_id: str, output: CheckOutput
    ) -> int:
        """An in-progress run; annotations are for completing it."""
        data = await self._call("POST", installation, f"/repos/{repo}/check-runs",
                                {"name": name, "head_sha": head_sha, "external_id": external_id,
                                 "status": "in_progress", "output": output.fields()})  # fmt: skip
        return valid_id(data, f"POST /repos/{repo}/check-runs")

    async def find_check_run(
        self, installation: int, repo: str, *, head_sha: str, name: str, external_id: str
    ) -> int | None:
        """Our app's run named `name` on `head_sha` whose external id is `external_id`, if GitHub has one."""
        url = f"/repos/{repo}/commits/{head_sha}/check-runs{{?check_name,filter,app_id}}"
        found = await self._all(installation, url, {"check_name": name, "filter": "all",
                                                    "app_id": self._app_id}, key="check_runs")  # fmt: skip
        for item in found:
            if item.get("external_id") == external_id and item.get("name") == name:
                return valid_id(item, f"GET /repos/{repo}/commits/{head_sha}/check-runs")
        return None

    async def check_run(self, installation: int, repo: str, check_run_id: int) -> CheckRunState:
        data = await self._call("GET", installation, f"/repos/{repo}/check-runs/{check_run_id}")
        return check_run_state(data, f"GET /repos/{repo}/check-runs/{check_run_id}")

    async def update_check_run(
        self, installation: int, repo: str, check_run_id: int, fields: Mapping[str, Any]
    ) -> None:
        await self._call("PATCH", installation, f"/repos/{repo}/check-runs/{check_run_id}", dict(fields))

    async def complete_check_run(
        self, installation: int, repo: str, check_run_id: int, *, conclusion: str, output: CheckOutput,
        sent: int = 0,
    ) -> int:  # fmt: skip
        """Conclude the run; annotations go 50 per call (GitHub appends them), from the `sent`-th on.
        Returns how many were sent in all."""
        annotations, shown = output.annotations, output.fields()
        batches = [annotations[i : i + ANNOTATIONS_PER_CALL] for i in range(sent, len(annotations), 50)]
        for batch in batches[:-1]:
            await self.update_check_run(installation, repo, check_run_id,
                                        {"output": {**shown, "annotations": list(batch)}})  # fmt: skip
            sent += len(batch)
        last = {**shown, "annotations": list(batches[-1])} if batches else shown
        done = {"status": "completed", "conclusion": conclusion, "output": last}
        await self.update_check_run(installation, repo, check_run_id, done)
        return sent + (len(batches[-1]) if batches else 0)
