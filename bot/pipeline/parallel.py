"""Runs independent lock jobs at the same time: the first in the repository, each other one in a copy
of the tracked tree beside it; results come back in the jobs' order, whatever order they finish in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bot.errors import CopyError
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
    the others. However the jobs end (failure, timeout, cancellation), every job has stopped and
    every copy is gone before this returns or raises; the first failure is raised (CopyError before
    any job started, when a copy cannot be made)."""
    roots: dict[str, Path] = {names[0]: repo}
    tasks: list[asyncio.Future[T]] = []
    try:
        for name in names[1:]:
            roots[name] = siblings.sibling_root(repo, name)  # removed below even when half made
            try:
                siblings.make_copy(repo, name, copies.tracked)
            except OSError as exc:
                raise CopyError(f"cannot copy the tree to {roots[name]}: {exc.strerror}") from None
        tasks = [asyncio.ensure_future(job(name, roots[name])) for name in names]
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        # Each job's own cleanup (a swap put back, uv's process group killed) runs before the copies go.
        await asyncio.gather(*tasks, return_exceptions=True)
        for name in names[1:]:
            if name in roots:
                siblings.remove_copy(roots[name])
