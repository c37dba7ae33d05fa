"""The git operations of a local run: the clean-tree check (git CLI) and one commit per step (GitPython)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import DirtyTreeError, RefusedError, ToolError
from bot.model import Commit
from bot.tools.githarden import LOCAL_OPTIONS
from bot.tools.proc import run

if TYPE_CHECKING:
    import git

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
    """Refuse when tracked files have uncommitted changes: those are someone's work.

    The git CLI, not GitPython, so the check does not wait for GitPython to import.
    """
    done = await run(
        ["git", *LOCAL_OPTIONS, "status", "--porcelain=v1", "--untracked-files=no", "-z"],
        cwd=path,
        env=env,
        timeout=GIT_TIMEOUT,
    )
    if done.returncode != 0:
        raise RefusedError(f"{path}: git status failed: {done.output.strip()}")
    dirty = sorted({entry[3:] for entry in done.output.split("\0") if entry[3:] and entry[3:] not in ignore})
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


def open_repo(path: Path) -> git.Repo:
    import git

    repo = git.Repo(path)
    # Every command GitPython runs for us (status, add, commit, reset): no hook, no fsmonitor.
    repo.git.set_persistent_git_options(c=[LOCAL_OPTIONS[1], LOCAL_OPTIONS[3]])
    return repo


def _status(repo: git.Repo, paths: Sequence[str], *, untracked: bool) -> dict[str, str]:
    """{path: two-letter porcelain status} for those of `paths` that differ from HEAD (one `git status`)."""
    mode = "--untracked-files=all" if untracked else "--untracked-files=no"
    out: str = repo.git.status("--porcelain=v1", "-z", mode, "--", *paths)
    return {entry[3:]: entry[:2] for entry in out.split("\0") if entry[3:]}


def commit_files(
    repo: git.Repo, paths: Sequence[str], message: str, *, untracked: bool = True
) -> Commit | None:
    """Commit those of `paths` that changed (new files too if `untracked`), and nothing else.

    Through GitPython's git command interface: its pure-Python index rewrite costs more than the
    lock step itself on large lock files.
    """
    status = _status(repo, paths, untracked=untracked) if paths else {}
    changed = [path for path in paths if path in status]
    if not changed:
        return None
    # `commit -- paths` takes those files as they are in the work tree and nothing else that may be
    # staged; a file the run created (a new checklist) must be known to git before it can be named.
    new = [path for path in changed if status[path] == "??"]
    if new:
        repo.git.add("--intent-to-add", "--", *new)
    repo.git.commit("--no-verify", "-q", "-m", message, "--", *changed)
    return Commit(sha=repo.head.commit.hexsha, message=message)


@contextlib.contextmanager
def all_or_none(repo: git.Repo, paths: Sequence[str]) -> Iterator[None]:
    """Commits made inside either all stay, or, if git refuses one, none do and the index is as it was.

    The work tree is the caller's to restore. Git's own reason (say, no user identity) becomes a
    ToolError.
    """
    import git as gitpython

    start = repo.head.commit.hexsha
    try:
        yield
    except gitpython.GitCommandError as exc:
        repo.git.reset("-q", "--soft", start)
        if paths:
            repo.git.reset("-q", start, "--", *paths)
        raise ToolError(f"git could not commit: {_reason(exc)}") from None


def _reason(exc: git.GitCommandError) -> str:
    """Git's own message from a failed command, without GitPython's wrapping."""
    text = str(exc.stderr).strip().removeprefix("stderr:").strip().strip("'")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(lines) or f"exit status {exc.status}"
