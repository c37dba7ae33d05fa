"""Runs independent lock jobs at the same time: the first in the repository, each other one in a copy
of the tracked tree beside it; results come back in the jobs' order, whatever order they finish in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bot.errors import CopyError, ToolError
from bot.files import repofiles, siblings
from bot.model import Extra

T = TypeVar("T")
# One job: its name, and where it runs (the repository itself, or its copy).
Job = Callable[[str, Path], Awaitable[T]]


@dataclass(frozen=True)
class Copies:
    """Whether the jobs get copies: `refusal` says why not (None: they do)."""

    tracked: tuple[str, ...]
    refusal: str | None


def plan_copies(
    repo: Path, names: Sequence[str], tracked: Sequence[str], extras: Sequence[Extra], *, limit_mb: float
) -> Copies:
    """Whether the jobs `names` can run in copies of `repo`'s tracked tree."""
    unsafe = [name for name in names if not siblings.safe_name(name)]
    if unsafe:
        return Copies(tuple(tracked), f"{unsafe[0]!r} cannot name a directory beside the repository")
    return Copies(tuple(tracked), siblings.copy_refusal(repo, tracked, extras, limit_mb=limit_mb))


def sync(source: Path, target: Path, paths: Sequence[str]) -> None:
    """Make `paths` in `target` what they are in `source` (absent where absent)."""
    for path in paths:
        if repofiles.exists(source, path):
            repofiles.write_bytes(target, path, repofiles.read_bytes(source, path))
        else:
            repofiles.unlink(target, path)


async def run_in_copies(repo: Path, names: Sequence[str], job: Job[T], *, copies: Copies) -> list[T]:
    """`job(name, root)` for every name at once; `root` is `repo` for the first, a fresh copy for
    the others. The first starts at once, each other one when a thread has filled its copy.

    However the jobs end (failure, timeout, cancellation), every job has stopped, no thread is still
    copying and every copy is gone before this returns or raises; the first failure is raised.
    CopyError, before any job started, when a copy cannot be begun beside the repository; ToolError
    when filling it fails.
    """
    roots: dict[str, Path] = {}
    tasks: list[asyncio.Future[T]] = []
    filling: list[asyncio.Future[None]] = []
    try:
        for name in names[1:]:
            roots[name] = siblings.sibling_root(repo, name)
            try:
                siblings.start_copy(repo, name)
            except OSError as exc:
                raise CopyError(f"cannot copy the tree to {roots[name]}: {exc.strerror}") from None
        tasks.append(asyncio.ensure_future(job(names[0], repo)))
        for name in names[1:]:
            fill = asyncio.ensure_future(asyncio.to_thread(_fill, repo, roots[name], copies.tracked))
            filling.append(fill)
            tasks.append(asyncio.ensure_future(_after(fill, name, roots[name], job)))
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        # Each job's own cleanup (a swap put back, uv's process group killed) runs, and each thread
        # finishes its copy, before the copies go.
        await asyncio.gather(*tasks, *filling, return_exceptions=True)
        for root in roots.values():
            siblings.remove_copy(root)


def _fill(repo: Path, root: Path, tracked: Sequence[str]) -> None:
    try:
        siblings.fill_copy(repo, root, tracked)
    except OSError as exc:  # a job may already run: the run fails (and is undone), no fallback
        raise ToolError(f"cannot copy the tree to {root}: {exc.strerror or exc}") from None


async def _after(fill: asyncio.Future[None], name: str, root: Path, job: Job[T]) -> T:
    # shield: cancelling the job must not cancel the thread's future, which the cleanup awaits.
    await asyncio.shield(fill)
    return await job(name, root)
