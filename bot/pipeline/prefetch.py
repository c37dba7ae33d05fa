"""While uv locks: the old distributions the audit will read, fetched and unpacked into its cache."""

from __future__ import annotations

import contextlib

from bot.errors import UpgradeDepsError
from bot.model import LockedPackage
from bot.pipeline.context import Context


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
