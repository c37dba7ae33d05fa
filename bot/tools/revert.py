"""`/upgrade-deps revert`: reverts the bot's own commits on a branch with new commits, never by force."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.errors import DirtyTreeError, NotLandedError, ToolError
from bot.model import Commit
from bot.text.wording import say
from bot.tools.githarden import LOCAL_OPTIONS
from bot.tools.proc import Completed, run, tail

GIT_TIMEOUT = 120.0
_REVERTS = re.compile(r"This reverts commit ([0-9a-f]{7,40})")


@dataclass(frozen=True)
class _Logged:
    sha: str
    email: str
    parents: tuple[str, ...]
    message: str

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]


def _env(name: str, email: str) -> dict[str, str]:
    # No user or system git config (hooks, signing, aliases) and the bot as author of the reverts.
    return {
        "PATH": os.defpath, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0", "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email,
    }  # fmt: skip


async def _git(repo: Path, env: Mapping[str, str], *args: str, check: bool = True) -> Completed:
    done = await run(["git", *LOCAL_OPTIONS, *args], cwd=repo, env=env, timeout=GIT_TIMEOUT)
    if check and (done.returncode != 0 or done.timed_out):
        raise ToolError(say("revert", "git_failed", action=args[0], output=tail(done.output, 5)))
    return done


def to_revert(commits: Sequence[_Logged], bot_email: str) -> list[_Logged]:
    """The bot's commits (newest first) not already reverted; reverts and merges are left alone."""
    reverted = {sha for commit in commits for sha in _REVERTS.findall(commit.message)}
    return [
        commit for commit in commits
        if commit.email.lower() == bot_email.lower()
        and len(commit.parents) == 1
        and not _REVERTS.search(commit.message)
        and not any(commit.sha.startswith(sha) for sha in reverted)
    ]  # fmt: skip


async def revert_bot_commits(
    repo: Path, *, base: str, bot_email: str, bot_name: str = "upgrade-deps[bot]"
) -> tuple[Commit, ...]:
    """Revert every commit authored by `bot_email` in `base..HEAD`, newest first, one new commit each.

    Returns the commits that were reverted (sha and subject). On a conflict everything is put back
    as it was and NotLandedError says which commit; a dirty work tree is refused before anything.
    """
    env = _env(bot_name, bot_email)
    if (await _git(repo, env, "status", "--porcelain", "--untracked-files=no")).output.strip():
        raise DirtyTreeError(say("revert", "dirty"))
    head = (await _git(repo, env, "rev-parse", "HEAD")).output.strip()
    log = await _git(repo, env, "log", "--format=%H%x1f%ae%x1f%P%x1f%B%x1e", f"{base}..HEAD")
    commits = []
    for record in filter(None, (r.strip("\n") for r in log.output.split("\x1e"))):
        sha, email, parents, message = record.split("\x1f", 3)
        commits.append(_Logged(sha, email, tuple(parents.split()), message.strip()))
    done: list[Commit] = []
    for commit in to_revert(commits, bot_email):
        result = await _git(repo, env, "revert", "--no-edit", commit.sha, check=False)
        if result.returncode == 0:
            done.append(Commit(commit.sha, commit.subject))
            continue
        conflicted = (await _git(repo, env, "diff", "--name-only", "--diff-filter=U")).output.strip()
        if not conflicted and "nothing to commit" in result.output:
            # Already undone by a later commit: nothing to revert. A single-commit revert leaves no
            # sequencer state, so there is usually nothing to skip either.
            await _git(repo, env, "revert", "--skip", check=False)
            continue
        await _git(repo, env, "revert", "--abort", check=False)
        await _git(repo, env, "reset", "--hard", head)  # local only: nothing was pushed yet
        raise NotLandedError(say("revert", "conflict", sha=commit.sha, subject=commit.subject))
    return tuple(done)
