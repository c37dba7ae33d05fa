"""Derives what a dependency bot's pull request upgrades from its manifest and lock diff (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.errors import UpgradeDepsError
from bot.files.lockfile import parse_lock
from bot.files.manifest import Manifest
from bot.model import Variant

# `==X` or `>=X` (optionally followed by an upper bound): the version the bot moved the pin to.
_FLOOR = re.compile(r"(?:===?|>=|~=)\s*([0-9][^,;\s]*)")


@dataclass(frozen=True)
class VariantFiles:
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
    variants: Sequence[Variant], base: Mapping[str, VariantFiles], head: Mapping[str, VariantFiles]
) -> tuple[str, ...]:
    """`pkg==version[@variant]` words for what the pull request upgraded, in a stable order.

    A pin the PR moved counts first; then a direct dependency whose locked version the PR changed
    (a lock-only update). A package pinned differently per variant on purpose (different pins at
    the base) is only moved where the PR moved it; one whose pins agree is moved in every variant
    that declares it, per variant when the locks now disagree (so each gets the same version).
    """
    base_pins = {v.name: _pins(base[v.name].manifest, v.manifest) for v in variants}
    head_pins = {v.name: _pins(head[v.name].manifest, v.manifest) for v in variants}
    head_locks = {v.name: _locked(head[v.name].lock, v.lock) for v in variants}
    direct: dict[str, set[str]] = {}
    for v in variants:
        text = head[v.name].manifest
        if text is not None:
            direct[v.name] = Manifest(text, display=v.manifest).direct_dependencies()
    moved: dict[str, dict[str, str]] = {}  # package -> {variant: version}
    for v in variants:
        for name, version in head_pins[v.name].items():
            if base_pins[v.name].get(name) != version:
                moved.setdefault(name, {})[v.name] = version
        old = _locked(base[v.name].lock, v.lock)
        for name in sorted(direct.get(v.name, set())):
            new = head_locks[v.name].get(name)
            if new and old.get(name) != new and len(new) == 1 and v.name not in moved.get(name, {}):
                moved.setdefault(name, {})[v.name] = new[0]
    words: list[str] = []
    for name in sorted(moved):
        declared = [v.name for v in variants if name in direct.get(v.name, set())]
        pins = {base_pins[v].get(name) for v in declared}
        versions = set(moved[name].values())
        if len(pins) > 1 or len(versions) > 1:  # divergent on purpose, or moved apart by the PR
            words += [f"{name}=={moved[name][v]}@{v}" for v in declared if v in moved[name]]
            continue
        (version,) = versions
        locked = {head_locks[v].get(name) for v in declared}
        if len(locked) > 1:
            words += [f"{name}=={version}@{v}" for v in declared]
        else:
            words.append(f"{name}=={version}")
    return tuple(words)


def safe_derive(
    variants: Sequence[Variant], base: Mapping[str, VariantFiles], head: Mapping[str, VariantFiles]
) -> tuple[tuple[str, ...], str | None]:
    """derive_request, with a corrupt manifest or lock turned into a message instead of an exception."""
    try:
        return derive_request(variants, base, head), None
    except UpgradeDepsError as exc:
        return (), str(exc)
