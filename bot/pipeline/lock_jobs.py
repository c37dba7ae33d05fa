"""Locks a run's variants: at the same time, each beside the repository, where that gives the same bytes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath

from bot.errors import CopyError
from bot.pipeline.context import Context
from bot.pipeline.parallel import Copies, Job, copies_beside, plan_copies, run_jobs
from bot.pipeline.progress import announced
from bot.tools import gitrepo
from bot.tools.uv import needs_swap, slots

# Locks one variant (`name`) in `root` (the repository, or its copy), reporting into `sink`.
VariantJob = Callable[[Context, str, Path], Awaitable[bool]]


def _sink(ctx: Context) -> Context:
    """The run's context with lists of its own for what one variant's locking reports: parallel
    variants report in the variants' order, not in the order they finish."""
    return replace(ctx, unresolved=[], warnings=[], resolutions=[], snapshots=[])


def _merge(ctx: Context, sink: Context) -> None:
    ctx.unresolved += sink.unresolved
    ctx.warnings += sink.warnings
    ctx.resolutions += sink.resolutions
    ctx.snapshots += sink.snapshots


def _copied(ctx: Context, names: Sequence[str]) -> list[str]:
    """The variants that lock in a copy beside the repository. uv locks `pyproject.toml`/`uv.lock` of a
    directory, so one variant per directory locks in place (a unit of a directory of its own among
    them) and each other one in a copy; and only one swap runs in place (its backup has one place)."""
    taken: set[PurePosixPath] = set()
    swapped = False
    copied = []
    for name in names:
        variant = ctx.variant(name)
        folder, swaps = PurePosixPath(variant.manifest).parent, needs_swap(variant)
        if folder in taken or (swaps and swapped):
            copied.append(name)
            continue
        taken.add(folder)
        swapped |= swaps
    return copied


async def _copies(ctx: Context, names: Sequence[str], copied: Sequence[str]) -> Copies | str:
    """The copies the variants `copied` lock in, or why the variants lock one after the other."""
    if not ctx.config.lock.parallel:
        return "[lock] parallel = false"
    variants = [ctx.variant(name) for name in names]
    files = [path for v in variants for path in (v.manifest, v.lock)]
    if len(set(files)) < len(files):
        return "the variants share a manifest or lock file"
    if not copied:
        return Copies((), None)
    tracked = await gitrepo.tracked_files(ctx.repo, env=ctx.locker.env)
    copies = plan_copies(ctx.repo, copied, tracked, ctx.extras, limit_mb=ctx.config.lock.copy_limit_mb)
    return copies.refusal or copies


async def lock_variants(ctx: Context, names: Sequence[str], job: VariantJob) -> list[bool]:
    """`job` for every variant in `names`; what each reports lands in `ctx` in the order of `names`."""
    sinks = {name: _sink(ctx) for name in names}

    async def one(name: str, root: Path) -> bool:
        async with announced(ctx.progress, f"lock {name}"):
            return await job(sinks[name], name, root)

    copied = _copied(ctx, names)
    plan = await _copies(ctx, names, copied) if len(names) > 1 else ""
    outcomes: list[bool] | None = None
    if isinstance(plan, Copies):
        found = await _in_parallel(ctx, names, plan, copied, one)
        outcomes, plan = (found, "") if isinstance(found, list) else (None, found)
    if outcomes is None:
        if plan:
            await ctx.progress(f"lock one variant after the other: {plan}")
        ctx.uv_running.set()  # the first uv starts before anything waiting for this runs
        outcomes = [await one(name, ctx.repo) for name in names]
    for name in names:
        _merge(ctx, sinks[name])
    return outcomes


async def _in_parallel(
    ctx: Context, names: Sequence[str], plan: Copies, copied: Sequence[str], one: Job[bool]
) -> list[bool] | str:
    """Every variant at once, the `copied` ones in copies; or why they cannot be (nothing ran then)."""
    # What the jobs in the repository write (a swap, the new lock) is copied before they start.
    variants = [ctx.variant(name) for name in names]
    first = {path for v in variants for path in (*slots(v), v.manifest, v.lock)}
    entered = False
    try:
        async with copies_beside(ctx.repo, names, plan, copied=copied, first=first) as roots:
            entered = True
            await ctx.progress(f"lock {', '.join(names)} in parallel")
            # The work that overlaps uv starts once every copy is complete, so the copying
            # thread does not wait for the interpreter behind it.
            return await run_jobs(roots, one, started=ctx.uv_running.set)
    except CopyError as exc:
        if entered:  # a copy failed half-way (the disk is full) with the repository's locks under way
            raise
        return str(exc)
