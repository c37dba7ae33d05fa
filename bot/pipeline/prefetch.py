"""Work that needs no new lock, started before uv runs: the checklist scan, the old distributions the
audit compares with, and the index's yank data for the request."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from bot.errors import UpgradeDepsError
from bot.model import LockedPackage
from bot.pipeline import api_steps
from bot.pipeline.context import Context

Yanked = Mapping[str, Mapping[str, str]]  # {package: {version: reason}}
T = TypeVar("T")


def old_entries(ctx: Context) -> list[LockedPackage]:
    """The baseline locks' entries of each requested package the audit will look at (focused, not
    `audit = false`), each version once, in the variants' order."""
    found: dict[tuple[str, str], LockedPackage] = {}
    for item in ctx.request.items:
        settings = ctx.config.packages.get(item.name)
        if item.name not in ctx.focused or (settings is not None and not settings.audit):
            continue
        for variant in ctx.variants:
            for entry in ctx.baseline[variant.name].packages.get(item.name, ()):
                found.setdefault((entry.name, entry.version), entry)
    return list(found.values())


async def prefetch_old(ctx: Context) -> None:
    """Unpack every old distribution the audit will want; the audit finds them in its cache.

    Nothing here decides anything: a distribution that cannot be had now is the audit's to report.
    """
    entries = old_entries(ctx)
    if not entries:
        return
    from bot.audit.distributions import unpack_distribution
    from bot.audit.fetch import fetch_file

    for entry in entries:
        with contextlib.suppress(UpgradeDepsError):
            await unpack_distribution(ctx.repo, entry, cache_dir=ctx.cache_dir, fetch=fetch_file)


def remote_indexes(ctx: Context) -> bool:
    """Whether a baseline lock names a remote index (the only place yank data comes from)."""
    return any(
        kind == "registry" and value.startswith(("http://", "https://"))
        for lock in ctx.baseline.values()
        for entries in lock.packages.values()
        for entry in entries
        for kind, value in entry.source
    )


async def yank_data(ctx: Context) -> Yanked:
    """Which versions of each requested package the index its baseline lock names has yanked."""
    if not remote_indexes(ctx):
        return {}
    import aiohttp

    from bot.tools.yanks import yanked_for_request

    async with aiohttp.ClientSession() as session:
        return await yanked_for_request(session, ctx.request, ctx.baseline)


class DuringLock:
    """The background work of one run, started before the pins are written."""

    def __init__(self, ctx: Context) -> None:
        # Step 0.5 touches only checklist files and steps 1-3 only manifests and locks.
        requested = [item.name for item in ctx.request.items]
        self.started = ctx.uv_running
        self.validation = self._after_uv(lambda: api_steps.validate(ctx, requested, reason="requested"))
        self.old = self._after_uv(lambda: prefetch_old(ctx))
        self.yanked = self._after_uv(lambda: yank_data(ctx))

    def _after_uv(self, work: Callable[[], Awaitable[T]]) -> asyncio.Future[T]:
        return asyncio.ensure_future(self._later(work))

    async def _later(self, work: Callable[[], Awaitable[T]]) -> T:
        """`work` once uv runs: its Python work (scans, imports) must not hold up the pins and uv's
        start on this one thread; it then runs while uv does."""
        await self.started.wait()
        return await work()

    def _tasks(self) -> tuple[asyncio.Future[Any], ...]:
        return (self.validation, self.old, self.yanked)

    async def cancel(self) -> None:
        """Stop all of it (the run failed): nothing keeps running after the run has ended."""
        for task in self._tasks():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, UpgradeDepsError):
                await task

    async def finish(self, *, landed: bool) -> Yanked:
        """Wait for the checklist scan (its errors are the run's), drop the rest unless the upgrade
        landed, and return the yank data."""
        self.started.set()  # no uv ran (nothing to pin): the checklist scan still runs
        await self.validation
        if not landed:
            await self.cancel()
            return {}
        with contextlib.suppress(asyncio.CancelledError):
            await self.old
        return await self.yanked
