"""Runs independent lock jobs at the same time: the first in the repository, each other one in a copy
of the tracked tree beside it; results come back in the jobs' order, whatever order they finish in.

    async with copies_beside(repo, names, plan_copies(...)) as roots:
        results = await run_jobs(roots, job)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
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


@asynccontextmanager
async def copies_beside(
    repo: Path, names: Sequence[str], copies: Copies, *, copied: Collection[str] | None = None,
    first: Collection[str] = (),
) -> AsyncIterator[dict[str, Awaitable[Path]]]:  # fmt: skip
    """{name: its root, once ready} for every name: a fresh copy of the tracked tree beside `repo` for
    each name in `copied` (default: all but the first), `repo` itself for the others.

    Each copy's directory and the tracked files among `first` (those the jobs in the repository
    write) are made at once: CopyError there, before any job starts, when the parent refuses or
    something else is in its place. The other files are copied on a thread while the jobs in the
    repository already run, and a job in a copy starts once its copy is complete (CopyError then,
    when the disk is full). However the block ends, the copying has stopped and the copies are
    removed.
    """
    beside = [n for n in names if n in copied] if copied is not None else list(names[1:])
    here: asyncio.Future[Path] = asyncio.get_running_loop().create_future()
    here.set_result(repo)
    roots: dict[str, Awaitable[Path]] = {name: here for name in names if name not in beside}
    made: list[Path] = []
    stop = threading.Event()
    now = [path for path in copies.tracked if path in first]
    later = [path for path in copies.tracked if path not in first]
    try:
        for name in beside:
            try:
                made.append(siblings.start_copy(repo, name))
                siblings.fill_copy(repo, made[-1], now)
            except OSError as exc:
                raise _refused(siblings.sibling_root(repo, name), exc) from None
        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="copy") as pool:
            for name, root in zip(beside, made, strict=True):
                roots[name] = asyncio.wrap_future(pool.submit(_fill, repo, root, later, stop))
            try:
                yield {name: roots[name] for name in names}
            finally:
                stop.set()  # the thread stops within one file; the pool's exit waits for it
    finally:
        for root in made:
            siblings.remove_copy(root)


def _fill(repo: Path, root: Path, tracked: Sequence[str], stop: threading.Event) -> Path:
    try:
        siblings.fill_copy(repo, root, tracked, stop=stop.is_set)
    except OSError as exc:
        raise _refused(root, exc) from None
    return root


def _refused(root: Path, exc: OSError) -> CopyError:
    return CopyError(f"cannot copy the tree to {root}: {exc.strerror}")


async def run_jobs(
    roots: Mapping[str, Awaitable[Path]], job: Job[T], *, started: Callable[[], object] | None = None
) -> list[T]:
    """`job(name, root)` for every entry at once (each once its root is ready), results in `roots`'
    order; `started()` is called once all are launched (every root ready). However they end
    (failure, timeout, cancellation), every job has stopped (its own cleanup done) before this
    returns or raises; the first failure is raised."""

    async def placed(name: str, root: Awaitable[Path]) -> T:
        return await job(name, await root)

    tasks = [asyncio.ensure_future(placed(name, root)) for name, root in roots.items()]
    try:
        if started is not None:
            await asyncio.gather(*roots.values())  # every job is under way
            started()
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
