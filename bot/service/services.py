"""What every job runs with: GitHub, the job store, the app's identity, the pipeline and how it runs code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.model import Request, UpgradeResult
from bot.pipeline.context import Progress, RunOptions, Runtime
from bot.service.clone import Identity, Sandbox
from bot.service.github import AppInfo, GitHub
from bot.service.store import JobQueue


class RunUpgrade(Protocol):
    """The pipeline's entry point (`bot.pipeline.upgrade.run_upgrade`): a work tree and a request in,
    a result out. Passed in, so the service is tested against the real one or another."""

    async def __call__(
        self,
        repo: Path,
        request: Request,
        *,
        runtime: Runtime,
        options: RunOptions,
        progress: Progress | None,
    ) -> UpgradeResult: ...


@dataclass(frozen=True)
class Services:
    github: GitHub
    store: JobQueue
    app: AppInfo
    upgrade: RunUpgrade
    runtime: Runtime  # how every job runs repository code (the environment, the sandbox, uv's limit)
    sandboxes: Path | None = None  # the worker process's own directory for clones (bot.service.clone_dirs)
    git_host: str = "github.com"  # the only host git may send the installation token to

    def sandbox(self, token: str) -> Sandbox:
        """A job's clone, in this worker process's directory, committing as the app's bot."""
        identity = Identity(self.app.bot_login, self.app.bot_email)
        return Sandbox(environ=self.runtime.environ, token=token, identity=identity, parent=self.sandboxes,
                       token_hosts=frozenset({self.git_host}))  # fmt: skip
