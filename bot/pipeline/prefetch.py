"""Work that needs no new lock, done while uv runs: the checklist scan, the distributions the audit
compares (the old ones from the baseline locks, the requested ones from the index), yank data."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from packaging.version import Version

from bot.errors import UpgradeDepsError
from bot.model import LockedPackage, Requested
from bot.pipeline import api_steps
from bot.pipeline.context import Context

if TYPE_CHECKING:
    from bot.audit.runner import EarlyGuards

Yanked = Mapping[str, Mapping[str, str]]  # {package: {version: reason}}
T = TypeVar("T")


def _audited(ctx: Context) -> list[Requested]:
    """The requested packages the audit will look at: focused, not `audit = false`."""
    out = []
    for item in ctx.request.items:
        settings = ctx.config.packages.get(item.name)
        if item.name in ctx.focused and (settings is None or settings.audit):
            out.append(item)
    return out


def old_entries(ctx: Context) -> list[LockedPackage]:
    """The baseline locks' entries of each requested package the audit will look at, each version
    once, in the variants' order."""
    found: dict[tuple[str, str], LockedPackage] = {}
    for item in _audited(ctx):
        for variant in ctx.variants:
            for entry in ctx.baseline[variant.name].packages.get(item.name, ()):
                found.setdefault((entry.name, entry.version), entry)
    return list(found.values())


async def prefetch_old(ctx: Context) -> dict[str, EarlyGuards]:
    """Unpack every old distribution the audit will want (the audit finds them in its cache), and
    find the version guards on each requested package, which depend only on the code.

    Nothing here decides anything: a distribution that cannot be had now is the audit's to report.
    """
    entries = old_entries(ctx)
    if not entries:
        return {}
    from bot.audit.distributions import unpack_distribution
    from bot.audit.fetch import fetch_file
    from bot.audit.runner import guards_ahead

    guards: dict[str, EarlyGuards] = {}
    for entry in entries:
        with contextlib.suppress(UpgradeDepsError):
            unpacked = await unpack_distribution(ctx.repo, entry, cache_dir=ctx.cache_dir, fetch=fetch_file)
            if entry.name not in guards and unpacked.top_level:
                # A thread: the scan parses the repository's code while the loop waits on uv.
                guards[entry.name] = await asyncio.to_thread(
                    guards_ahead, ctx.repo, ctx.config, entry.name, unpacked.top_level
                )
    return guards


async def prefetch_new(ctx: Context) -> None:
    """The requested versions' pure wheels, from the remote index the baseline lock names for each.

    The lock does not name them yet, but the index does, with their sha256: the audit's cache is
    keyed by it, so the audit finds the file uv locks, or (another file) downloads its own.
    """
    from bot.audit.dist_lookup import from_simple_index
    from bot.audit.distributions import unpack_distribution
    from bot.audit.fetch import SIMPLE_ACCEPT, fetch_file, http_get

    async def page(url: str) -> bytes:
        return await http_get(url, accept=SIMPLE_ACCEPT)

    for item in _audited(ctx):
        for index in _remote_registries(ctx, item.name):
            with contextlib.suppress(UpgradeDepsError):
                found = await from_simple_index(index, item.name, item.version, get=page)
                pure = [w for w in found.wheels if w[0].endswith("-none-any.whl") and w[1]] if found else []
                if found and pure:
                    # As uv writes it in the lock, so the cache key is the one the audit looks up.
                    entry = replace(found, version=str(Version(item.version)), wheels=(pure[0],), sdist=None)
                    await unpack_distribution(ctx.repo, entry, cache_dir=ctx.cache_dir, fetch=fetch_file)
                    break


def _remote_registries(ctx: Context, package: str) -> list[str]:
    found = [
        value
        for lock in ctx.baseline.values()
        for entry in lock.packages.get(package, ())
        for kind, value in entry.source
        if kind == "registry" and value.startswith(("http://", "https://"))
    ]
    return list(dict.fromkeys(found))


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
        self.new = self._after_uv(lambda: prefetch_new(ctx))
        self.yanked = self._after_uv(lambda: yank_data(ctx))

    def _after_uv(self, work: Callable[[], Awaitable[T]]) -> asyncio.Future[T]:
        return asyncio.ensure_future(self._later(work))

    async def _later(self, work: Callable[[], Awaitable[T]]) -> T:
        """`work` once uv runs: its Python work (scans, imports) must not hold up the pins and uv's
        start on this one thread; it then runs while uv does."""
        await self.started.wait()
        return await work()

    def _tasks(self) -> tuple[asyncio.Future[Any], ...]:
        return (self.validation, self.old, self.new, self.yanked)

    async def cancel(self) -> None:
        """Stop all of it (the run failed): nothing keeps running after the run has ended."""
        for task in self._tasks():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, UpgradeDepsError):
                await task

    async def finish(self, *, landed: bool) -> tuple[Yanked, dict[str, EarlyGuards]]:
        """Wait for the checklist scan (its errors are the run's), drop the rest unless the upgrade
        landed, and return the yank data and the version guards found."""
        self.started.set()  # no uv ran (nothing to pin): the checklist scan still runs
        await self.validation
        if not landed:
            await self.cancel()
            return {}, {}
        with contextlib.suppress(asyncio.CancelledError):
            await self.new
        guards = {}
        with contextlib.suppress(asyncio.CancelledError):
            guards = await self.old
        return await self.yanked, guards
