"""A temporary clone per job: token passed to git per command, never stored; bot identity; no force-push."""

from __future__ import annotations

import base64
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal
from urllib.parse import urlsplit

from bot.errors import ToolError
from bot.tools import githarden
from bot.tools.proc import child_env, run, tail

GIT_TIMEOUT = 300.0
PushOutcome = Literal["pushed", "moved"]


def redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


@dataclass(frozen=True)
class Identity:
    name: str
    email: str


class Sandbox:
    """`async with Sandbox(...) as box:` clones into a temp dir that is removed whatever happens."""

    def __init__(
        self, *, environ: Mapping[str, str], token: str | None, identity: Identity,
        parent: Path | None = None, token_hosts: frozenset[str] = frozenset(),
    ) -> None:  # fmt: skip
        """`token_hosts`: the hosts the token may be sent to (the GitHub the app belongs to); a clone
        URL naming any other host is cloned without it, so a payload cannot send it elsewhere.
        `""` stands for local `file://` remotes.
        """
        self._environ = environ
        self._token = token
        self._token_hosts = token_hosts
        self._identity = identity
        self._parent = parent  # this worker process's own directory (clone_dirs), else the temp dir
        self._tmp: Path | None = None
        self._url = ""
        self.repo = Path()

    async def __aenter__(self) -> Sandbox:
        self._tmp = Path(tempfile.mkdtemp(prefix="upgrade-deps-", dir=self._parent))
        self.repo = self._tmp / "repo"
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def _secrets(self) -> list[str]:
        if not self._token:
            return []
        return [self._token, base64.b64encode(f"x-access-token:{self._token}".encode()).decode()]

    def _env(self, *, remote: bool) -> dict[str, str]:
        """git's environment; the token only for a git that talks to the remote (clone, fetch, push)."""
        extra = dict(githarden.ENV)
        if self._token and remote and self._may_send_token():
            # Given to this one git process through its environment: never on a command line
            # (visible in ps), never in .git/config (the repository's code runs in this clone).
            header = base64.b64encode(f"x-access-token:{self._token}".encode()).decode()
            extra.update({
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "http.extraHeader",
                "GIT_CONFIG_VALUE_0": f"Authorization: Basic {header}",
            })  # fmt: skip
        return child_env(self._environ, extra)

    def _may_send_token(self) -> bool:
        parts = urlsplit(self._url)
        if parts.scheme == "file":
            return "" in self._token_hosts
        return parts.scheme in ("https", "http") and (parts.hostname or "").lower() in self._token_hosts

    def _argv(self, args: tuple[str, ...]) -> tuple[str, ...]:
        return ("git", *githarden.options(self._url), *args)

    async def git(self, *args: str, cwd: Path | None = None, check: bool = True, remote: bool = False) -> str:
        result = await run(
            self._argv(args), cwd=cwd or self.repo, env=self._env(remote=remote), timeout=GIT_TIMEOUT
        )
        output = redact(result.output, self._secrets())
        if check and (result.returncode != 0 or result.timed_out):
            what = "timed out" if result.timed_out else f"exit {result.returncode}"
            raise ToolError(f"git {args[0]} failed ({what}): {tail(output, 10)}")
        return output

    async def clone(self, url: str, *, ref: str) -> str:
        """Clone `url` and check out branch `ref`; returns the head commit."""
        assert self._tmp is not None, "use the sandbox with async with"  # noqa: S101 - a bug of ours
        self._url = url
        await self.git(
            "clone", "--quiet", "--no-tags", "--branch", ref, "--", url, str(self.repo), cwd=self._tmp,
            remote=True,
        )  # fmt: skip
        await self.git("config", "user.name", self._identity.name)
        await self.git("config", "user.email", self._identity.email)
        return await self.head()

    async def head(self) -> str:
        return (await self.git("rev-parse", "HEAD")).strip()

    async def remote_branch(self, branch: str) -> str | None:
        """The commit `branch` points at on the remote now, or None when it does not exist."""
        out = await self.git("ls-remote", "--heads", "origin", f"refs/heads/{branch}", remote=True)
        return out.split()[0] if out.strip() else None

    async def checkout_new(self, branch: str) -> None:
        await self.git("checkout", "--quiet", "-B", branch)

    async def file_at(self, commit: str, path: str) -> str | None:
        out = await run(
            self._argv(("show", f"{commit}:{path}")), cwd=self.repo, env=self._env(remote=False),
            timeout=GIT_TIMEOUT,
        )  # fmt: skip
        return out.output if out.returncode == 0 else None

    async def fetch(self, commit: str) -> None:
        """Make `commit` available (a pull request's base may be on a branch not cloned); best effort."""
        await self.git("fetch", "--quiet", "origin", commit, check=False, remote=True)

    async def push(self, branch: str) -> PushOutcome:
        """Push HEAD to `branch`, never forcing; "moved" when the branch changed under us."""
        result = await run(
            self._argv(("push", "--porcelain", "origin", f"HEAD:refs/heads/{branch}")),
            cwd=self.repo, env=self._env(remote=True), timeout=GIT_TIMEOUT,
        )  # fmt: skip
        output = redact(result.output, self._secrets())
        if result.returncode == 0 and not result.timed_out:
            return "pushed"
        if "[rejected]" in output or "non-fast-forward" in output or "fetch first" in output:
            return "moved"
        raise ToolError(f"git push to {branch} failed: {tail(output, 10)}")

    async def reaches(self, commit: str, branch: str) -> bool:
        """Whether `commit` is on the remote `branch` now (its head or an ancestor of it)."""
        await self.git("fetch", "--quiet", "origin", f"refs/heads/{branch}", remote=True)
        found = await run(
            self._argv(("merge-base", "--is-ancestor", commit, "FETCH_HEAD")),
            cwd=self.repo, env=self._env(remote=False), timeout=GIT_TIMEOUT,
        )  # fmt: skip
        return found.returncode == 0 and not found.timed_out
