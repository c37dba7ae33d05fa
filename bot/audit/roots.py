"""Import names of locked packages, read from their distributions (step 0.5's last fallback)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.audit.distributions import Fetch, unpack_distribution
from bot.audit.fetch import fetch_file
from bot.errors import UpgradeDepsError
from bot.files.lockfile import Lock


async def distribution_roots(
    repo: Path,
    locks: Mapping[str, Lock],
    packages: Sequence[str],
    *,
    cache_dir: Path,
    fetch: Fetch = fetch_file,
) -> dict[str, tuple[str, ...]]:
    """{package: its top-level import names} for each package some lock holds and we can unpack.

    A package whose distribution cannot be had is left out; the caller falls back to its name.
    """
    found: dict[str, tuple[str, ...]] = {}
    for package in packages:
        entry = next((e for lock in locks.values() for e in lock.packages.get(package, ())), None)
        if entry is None:
            continue
        try:
            unpacked = await unpack_distribution(repo, entry, cache_dir=cache_dir, fetch=fetch)
        except UpgradeDepsError:
            continue
        if unpacked.top_level:
            found[package] = unpacked.top_level
    return found
