"""Runs independent lock jobs at the same time: the first in the repository, each other one in a copy
of the tracked tree beside it; results come back in the jobs' order, whatever order they finish in.

    with copies_beside(repo, names, plan_copies(...)) as roots:
        results = await run_jobs(roots, job)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
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


@contextmanager
def copies_beside(
    repo: Path, names: Sequence[str], copies: Copies, *, copied: Collection[str] | None = None
) -> Iterator[dict[str, Path]]:
    """{name: root} for every name: a fresh copy of the tracked tree beside `repo` for each name in
    `copied` (default: all but the first), `repo` itself for the others; the copies are removed when
    the block ends, however it ends.

    CopyError when a copy cannot be made (the parent refuses it, the disk is full).
    """
    beside = [n for n in names if n in copied] if copied is not None else list(names[1:])
    roots: dict[str, Path] = {name: repo for name in names if name not in beside}
    try:
        for name in beside:
            roots[name] = siblings.sibling_root(repo, name)  # removed below even when half made
            try:
                siblings.make_copy(repo, name, copies.tracked)
            except OSError as exc:
                raise CopyError(f"cannot copy the tree to {roots[name]}: {exc.strerror}") from None
        yield {name: roots[name] for name in names}
    finally:
        for name in beside:
            if name in roots:
                siblings.remove_copy(roots[name])


async def run_jobs(
    roots: Mapping[str, Path], job: Job[T], *, started: Callable[[], object] | None = None
) -> list[T]:
    """`job(name, root)` for every entry at once, results in `roots`' order; `started()` is called
    once all are launched. However they end (failure, timeout, cancellation), every job has
    stopped (its own cleanup done) before this returns or raises; the first failure is raised."""
    tasks = [asyncio.ensure_future(job(name, root)) for name, root in roots.items()]
    try:
        if started is not None:
            started()
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
