"""Derives what a dependency bot's pull request upgrades from its manifest and lock diff (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.errors import UpgradeDepsError
from bot.lockfile import parse_lock
from bot.manifest import Manifest
from bot.model import Variant

# `==X` or `>=X` (optionally followed by an upper bound): the version the bot moved the pin to.
_FLOOR = re.compile(r"(?:===?|>=|~=)\s*([0-9][^,;\s]*)")


@dataclass(frozen=True)
class Snapshot:
    """One variant's manifest and lock text at a commit (None when the file is absent)."""

    manifest: str | None
    lock: str | None


def _pins(text: str | None, display: str) -> dict[str, str]:
    """{package: version the specifier pins or starts at} for every declaration with one."""
    if text is None:
        return {}
    manifest = Manifest(text, display=display)
    out: dict[str, str] = {}
    for name in sorted(manifest.declared_names()):
        for declaration in manifest.declarations(name):
            match = _FLOOR.search(declaration.specifier)
            if match:
                out[name] = match.group(1)
    return out


def _locked(text: str | None, display: str) -> dict[str, tuple[str, ...]]:
    return {} if text is None else parse_lock(text, display=display).versions()


def derive_request(
    variants: Sequence[Variant], base: Mapping[str, Snapshot], head: Mapping[str, Snapshot]
) -> tuple[str, ...]:
    """`pkg==version[@variant]` words for what the pull request upgraded, in a stable order.

    A pin the PR moved counts first; then a direct dependency whose locked version the PR changed
    (a lock-only update). A package pinned differently in several variants gets `@variant`.
    """
    requested: dict[tuple[str, str | None], str] = {}
    base_pins = {v.name: _pins(base[v.name].manifest, v.manifest) for v in variants}
    divergent = {
        name
        for name in {n for pins in base_pins.values() for n in pins}
        if len({pins[name] for pins in base_pins.values() if name in pins}) > 1
    }
    for variant in variants:
        after = _pins(head[variant.name].manifest, variant.manifest)
        for name, version in after.items():
            if base_pins[variant.name].get(name) != version:
                requested[(name, variant.name if name in divergent else None)] = version
    for variant in variants:
        manifest_text = head[variant.name].manifest
        if manifest_text is None:
            continue
        direct = Manifest(manifest_text, display=variant.manifest).direct_dependencies()
        old = _locked(base[variant.name].lock, variant.lock)
        new = _locked(head[variant.name].lock, variant.lock)
        for name in sorted(direct):
            if name in new and old.get(name) != new[name] and len(new[name]) == 1:
                key = (name, variant.name if name in divergent else None)
                if key not in requested and (name, None) not in requested:
                    requested[key] = new[name][0]
    return tuple(
        f"{name}=={version}" + (f"@{variant}" if variant else "")
        for (name, variant), version in sorted(
            requested.items(), key=lambda item: (item[0][0], item[0][1] or "")
        )
    )


def safe_derive(
    variants: Sequence[Variant], base: Mapping[str, Snapshot], head: Mapping[str, Snapshot]
) -> tuple[tuple[str, ...], str | None]:
    """derive_request, with a corrupt manifest or lock turned into a message instead of an exception."""
    try:
        return derive_request(variants, base, head), None
    except UpgradeDepsError as exc:
        return (), str(exc)
