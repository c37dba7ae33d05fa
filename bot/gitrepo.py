"""The git operations of a local run, with GitPython: clean-tree check and one commit per step."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import git

from bot.errors import DirtyTreeError, RefusedError
from bot.model import Commit


def open_repo(path: Path) -> git.Repo:
    try:
        return git.Repo(path)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise RefusedError(f"{path}: not a git repository") from None


def ensure_clean(repo: git.Repo, *, ignore: Sequence[str] = ()) -> None:
    """Refuse when tracked files have uncommitted changes: those are someone's work."""
    dirty = [
        str(item.a_path)
        for item in [*repo.index.diff(None), *(repo.index.diff("HEAD") if repo.head.is_valid() else [])]
        if item.a_path not in ignore
    ]
    if dirty:
        listed = ", ".join(sorted(set(dirty))[:10])
        raise DirtyTreeError(f"the work tree has uncommitted changes ({listed}); commit or stash them first")


def commit_files(repo: git.Repo, paths: Sequence[str], message: str) -> Commit | None:
    """Commit exactly `paths` (nothing else that may be staged or lying around)."""
    if not paths:
        return None
    repo.index.add(list(paths))
    if repo.head.is_valid() and not repo.index.diff("HEAD"):
        return None
    commit = repo.index.commit(message)
    return Commit(sha=commit.hexsha, message=message)
