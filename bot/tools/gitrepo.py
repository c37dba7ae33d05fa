"""The git operations of a local run: the clean-tree check and one commit per step, through the git CLI."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.errors import DirtyTreeError, RefusedError, ToolError
from bot.model import Commit
from bot.tools.githarden import LOCAL_OPTIONS
from bot.tools.proc import run

GIT_TIMEOUT = 60.0


@dataclass(frozen=True)
class WorkTree:
    """Where a path's git work tree is: its .git directory, its top level, the path's place in it, HEAD."""

    git_dir: Path
    top: Path
    prefix: str  # the path relative to `top`, "" at the top level itself
    head: str | None  # None: no commit yet (a fresh `git init`)


async def work_tree(path: Path, *, env: Mapping[str, str]) -> WorkTree:
    """The work tree `path` is in (one `git rev-parse`); refuses a path that is in none."""
    argv = ["git", *LOCAL_OPTIONS, "rev-parse", "--absolute-git-dir", "--show-toplevel", "--show-prefix",
            "--verify", "-q", "HEAD^{commit}"]  # fmt: skip
    done = await run(argv, cwd=path, env=env, timeout=GIT_TIMEOUT)
    lines = done.output.splitlines()
    # Without a commit rev-parse still prints the directories, then fails on HEAD alone (exit 1).
    if done.returncode not in (0, 1) or len(lines) < 3:
        raise RefusedError(f"{path}: not a git repository")
    head = lines[3].strip() if done.returncode == 0 and len(lines) > 3 else None
    return WorkTree(
        git_dir=Path(lines[0].strip()), top=Path(lines[1].strip()), prefix=lines[2].strip(), head=head
    )


async def top_level(path: Path, *, env: Mapping[str, str]) -> Path | None:
    """The top level of the work tree `path` is in, or None when it is in none."""
    try:
        return (await work_tree(path, env=env)).top
    except RefusedError:
        return None


async def checkout(path: Path, *, env: Mapping[str, str], exact: bool = True) -> WorkTree:
    """The work tree to upgrade: the one whose top level is `path` (or, not `exact`, that `path` is in).

    A repository without commits is refused before anything is read or written: there is nothing
    to compare the upgrade with, no commit to add one to, and its files are all untracked.
    """
    tree = await work_tree(path, env=env)
    # git's own answer, not a comparison of paths: symlinks and `..` cannot make them differ.
    if exact and tree.prefix:
        raise RefusedError(
            f"{path}: inside the git work tree {tree.top}, not its top level; a repository is upgraded "
            "from its top level"
        )
    if tree.head is None:
        raise RefusedError(
            f"{tree.top}: the repository has no commits yet; commit its manifests and lock files first"
        )
    return tree


async def git_dir(path: Path, *, env: Mapping[str, str]) -> Path:
    """The .git directory of the work tree whose top level is `path`; refuses anything else."""
    return (await checkout(path, env=env)).git_dir


async def ensure_clean(path: Path, *, env: Mapping[str, str], ignore: Sequence[str] = ()) -> None:
    """Refuse when tracked files have uncommitted changes: those are someone's work."""
    try:
        status = await _status(path, (), env=env, untracked=False)
    except _Refused as exc:
        raise RefusedError(f"{path}: git status failed: {exc}") from None
    dirty = sorted(entry for entry in status if entry not in ignore)
    if dirty:
        listed = ", ".join(dirty[:10])
        raise DirtyTreeError(f"the work tree has uncommitted changes ({listed}); commit or stash them first")


async def tracked_files(path: Path, *, env: Mapping[str, str]) -> list[str]:
    """Every path git tracks in the work tree at `path` (as the index names them)."""
    done = await run(["git", *LOCAL_OPTIONS, "ls-files", "-z"], cwd=path, env=env, timeout=GIT_TIMEOUT)
    if done.returncode != 0:
        raise ToolError(f"{path}: git ls-files failed: {done.output.strip()}")
    return [name for name in done.output.split("\0") if name]


async def file_at(path: Path, commit: str, relative: str, *, env: Mapping[str, str]) -> str | None:
    """`relative` as committed in `commit`, or None when it is not there (or the commit is unknown)."""
    argv = ["git", *LOCAL_OPTIONS, "show", f"{commit}:{relative}"]
    done = await run(argv, cwd=path, env=env, timeout=GIT_TIMEOUT)
    return done.output if done.returncode == 0 else None


class _Refused(Exception):
    """A git command of the commit step failed; its message is git's own reason."""


async def _git(repo: Path, env: Mapping[str, str], *args: str) -> str:
    """One git command in the user's checkout (no hook, no fsmonitor); its output."""
    done = await run(["git", *LOCAL_OPTIONS, *args], cwd=repo, env=env, timeout=GIT_TIMEOUT)
    if done.returncode != 0:
        lines = [line.strip() for line in done.output.splitlines() if line.strip()]
        reason = " ".join(lines) or f"exit status {done.returncode}"
        raise _Refused(f"{reason} (timed out after {GIT_TIMEOUT:.0f} s)" if done.timed_out else reason)
    return done.output


async def _status(
    repo: Path, paths: Sequence[str], *, env: Mapping[str, str], untracked: bool
) -> dict[str, str]:
    """{path: two-letter porcelain status} for those of `paths` that differ from HEAD (one `git status`)."""
    mode = "--untracked-files=all" if untracked else "--untracked-files=no"
    out = await _git(repo, env, "status", "--porcelain=v1", "-z", mode, "--", *paths)
    return {entry[3:]: entry[:2] for entry in out.split("\0") if entry[3:]}


async def commit_files(
    repo: Path, paths: Sequence[str], message: str, *, env: Mapping[str, str], untracked: bool = True
) -> Commit | None:
    """Commit those of `paths` that changed (new files too if `untracked`), and nothing else.

    The git CLI itself: `git commit -- paths` takes only those files, as they are in the work tree.
    """
    status = await _status(repo, paths, env=env, untracked=untracked) if paths else {}
    changed = [path for path in paths if path in status]
    if not changed:
        return None
    # `commit -- paths` takes those files as they are in the work tree and nothing else that may be
    # staged; a file the run created (a new checklist) must be known to git before it can be named.
    new = [path for path in changed if status[path] == "??"]
    if new:
        await _git(repo, env, "add", "--intent-to-add", "--", *new)
    await _git(repo, env, "commit", "--no-verify", "-q", "-m", message, "--", *changed)
    return Commit(sha=await _head(repo, env), message=message)


async def _head(repo: Path, env: Mapping[str, str]) -> str:
    return (await _git(repo, env, "rev-parse", "--verify", "HEAD^{commit}")).strip()


@contextlib.asynccontextmanager
async def all_or_none(repo: Path, paths: Sequence[str], *, env: Mapping[str, str]) -> AsyncIterator[None]:
    """Commits made inside either all stay, or, if git refuses one, none do and the index is as it was.

    The work tree is the caller's to restore. Git's own reason (say, no user identity) becomes a
    ToolError.
    """
    start = await _head(repo, env)
    try:
        yield
    except _Refused as exc:
        await _git(repo, env, "reset", "-q", "--soft", start)
        if paths:
            await _git(repo, env, "reset", "-q", start, "--", *paths)
        raise ToolError(f"git could not commit: {exc}") from None
