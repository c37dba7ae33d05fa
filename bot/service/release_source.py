"""The pipeline's release source in a job: GitHub's releases, read through the app's client."""

from __future__ import annotations

from collections.abc import Sequence

from bot.errors import GitHubError, ReleaseNotesError, TransientError
from bot.model import Release
from bot.service.github import GitHub


class InstallationReleases:
    """The pipeline's release source in a job: GitHub's releases read with the installation's token."""

    def __init__(self, github: GitHub, installation: int) -> None:
        self.github = github
        self.installation = installation

    async def list_releases(self, repo: str) -> Sequence[Release]:
        try:
            return await self.github.list_releases(self.installation, repo)
        except (GitHubError, TransientError) as exc:
            raise ReleaseNotesError(f"GitHub did not list {repo}'s releases: {exc}") from None

    async def release_by_tag(self, repo: str, tag: str) -> Release | None:
        try:
            return await self.github.release_by_tag(self.installation, repo, tag)
        except (GitHubError, TransientError) as exc:
            raise ReleaseNotesError(f"GitHub did not answer for {repo}'s release {tag}: {exc}") from None
