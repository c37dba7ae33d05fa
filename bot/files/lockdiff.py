"""Compares baseline and new locks (pure): every package whose resolved versions changed, per variant."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from bot.files.lockfile import Lock
from bot.model import VersionChange


def diff_locks(
    old: Mapping[str, Lock], new: Mapping[str, Lock], *, requested: Collection[str], focused: Collection[str]
) -> tuple[VersionChange, ...]:
    """Changes grouped by (package, old, new) so a shared bump lists all its variants in one row."""
    rows: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[str]] = {}
    for variant, new_lock in new.items():
        before = old[variant].versions()
        after = new_lock.versions()
        for package in sorted(set(before) | set(after)):
            if before.get(package, ()) != after.get(package, ()):
                key = (package, before.get(package, ()), after.get(package, ()))
                rows.setdefault(key, []).append(variant)
    return tuple(
        VersionChange(
            package=package,
            old=old_versions,
            new=new_versions,
            variants=tuple(variants),
            requested=package in requested,
            focused=package in focused or package in requested,
        )
        for (package, old_versions, new_versions), variants in sorted(rows.items())
    )
