"""Derives from the manifests which variants each requested package touches (the impact matrix)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.errors import DivergentPackageError, RefusedError
from bot.files.lockfile import Lock
from bot.files.manifest import Manifest
from bot.files.specifiers import allowed
from bot.model import Declaration, Request, Requested, Variant

Scope = Literal["variant-only", "shared", "shared-divergent", "transitive", "absent"]


@dataclass(frozen=True)
class Impact:
    """Where one package lives: per variant, its declarations and locked versions."""

    package: str
    scope: Scope
    declarations: Mapping[str, tuple[Declaration, ...]]  # variant -> declarations
    locked: Mapping[str, tuple[str, ...]]  # variant -> versions in that variant's lock


@dataclass(frozen=True)
class PinTarget:
    """One (package, variant) the run must move to `version`."""

    item: Requested
    variant: str
    declarations: tuple[Declaration, ...]


def allows(declarations: tuple[Declaration, ...]) -> frozenset[tuple[str, object]]:
    """What one variant's declarations of a package allow, per environment marker: a URL, or the
    specifiers that remain once redundant ones are dropped. How many times, and in which sections
    (dependencies, overrides, constraints), a variant writes the same pin does not matter."""
    texts: dict[str, list[str]] = {}
    urls: dict[str, set[str]] = {}
    for declaration in declarations:
        marker = str(Requirement(declaration.requirement).marker or "")
        if declaration.url:
            urls.setdefault(marker, set()).add(declaration.url)
        else:
            texts.setdefault(marker, []).append(declaration.specifier)
    found: set[tuple[str, object]] = {(marker, frozenset(found)) for marker, found in urls.items()}
    for marker, specifiers in texts.items():
        reduced = allowed(specifiers)
        found.add((marker, reduced if reduced is not None else tuple(sorted(specifiers))))
    return frozenset(found)


def impact_of(
    package: str, variants: tuple[Variant, ...], manifests: Mapping[str, Manifest], locks: Mapping[str, Lock],
    members: Mapping[str, Sequence[Manifest]] | None = None,
) -> Impact:  # fmt: skip
    """Where `package` lives; `members` are each unit's workspace members' manifests, whose pins its lock
    holds like its own (a unit whose manifests pin it differently is divergent, like variants are)."""
    each = {
        v.name: [manifests[v.name], *(members or {}).get(v.name, ())] for v in variants
    }  # fmt: skip
    declarations = {
        name: tuple(d for manifest in found for d in _pins(manifest, package)) for name, found in each.items()
    }
    locked = {v.name: locks[v.name].versions().get(package, ()) for v in variants}
    declared_in = [name for name, found in declarations.items() if found]
    present_in = [name for name, versions in locked.items() if versions]
    within = any(len(_allowed_per_manifest(declarations[name])) > 1 for name in declared_in)
    scope: Scope
    if not declared_in:
        scope = "transitive" if present_in else "absent"
    elif within:
        scope = "shared-divergent"
    elif len(declared_in) == 1 or len(variants) == 1:
        scope = "variant-only" if len(variants) > 1 else "shared"
    else:
        # Divergent: the variants allow, or resolve, different versions.
        specs = {allows(declarations[n]) for n in declared_in}
        versions = {locked[n] for n in declared_in}
        scope = "shared-divergent" if len(specs) > 1 or len(versions) > 1 else "shared"
    return Impact(package, scope, declarations, locked)


def _pins(manifest: Manifest, package: str) -> list[Declaration]:
    """The manifest's declarations of `package`, none when a workspace or path source provides it:
    such a requirement names a project of the repository, which no version request moves."""
    if _local_source(manifest, package):
        return []
    return manifest.declarations(package)


def _local_source(manifest: Manifest, package: str) -> bool:
    sources = manifest.doc.get("tool", {}).get("uv", {}).get("sources", {})
    wanted = canonicalize_name(package)
    for key, value in sources.items():
        if canonicalize_name(key) == wanted:
            entries = value if isinstance(value, list) else [value]
            return any(isinstance(e, Mapping) and ("workspace" in e or "path" in e) for e in entries)
    return False


def _allowed_per_manifest(declarations: tuple[Declaration, ...]) -> set[frozenset[tuple[str, object]]]:
    by_file: dict[str, list[Declaration]] = {}
    for declaration in declarations:
        by_file.setdefault(declaration.manifest, []).append(declaration)
    return {allows(tuple(found)) for found in by_file.values()}


def plan_targets(
    request: Request, variants: tuple[Variant, ...], impacts: Mapping[str, Impact]
) -> list[PinTarget]:
    """The (package, variant) pairs to edit and lock; refuses what needs the user to choose.

    `@name` names a unit (every manifest of it moves), or a workspace member's directory (only that
    member's manifest moves, and every unit holding it is locked)."""
    names = {v.name for v in variants}
    targets = []
    for item in request.items:
        impact = impacts[item.name]
        if item.variant is not None:
            targets += _chosen(item, variants, impact)
            continue
        if impact.scope == "shared-divergent":
            current = "; ".join(_current(impact, name) for name in sorted(names) if impact.declarations[name])
            raise DivergentPackageError(
                f"{item.display} is pinned differently per variant ({current}); say which variant with "
                f"{item.display}=={item.version}@<variant>, once per variant to change (a workspace "
                "member is named by its directory)"
            )
        chosen = [v.name for v in variants if impact.declarations[v.name] or impact.locked[v.name]]
        targets += [PinTarget(item, name, impact.declarations[name]) for name in chosen]
    return targets


def _chosen(item: Requested, variants: tuple[Variant, ...], impact: Impact) -> list[PinTarget]:
    if any(v.name == item.variant for v in variants):
        return [PinTarget(item, str(item.variant), impact.declarations[str(item.variant)])]
    manifest = f"{str(item.variant).rstrip('/')}/pyproject.toml"
    holding = [v for v in variants if manifest in v.manifests]
    if not holding:
        names = sorted({v.name for v in variants})
        raise RefusedError(f"{item.text!r}: no variant {item.variant!r} (variants: {', '.join(names)})")
    return [
        PinTarget(item, v.name, tuple(d for d in impact.declarations[v.name] if d.manifest == manifest))
        for v in holding
    ]


def _current(impact: Impact, variant: str) -> str:
    """`default: 2.9.1 (==2.9.1)`: what a variant locks and, once each, the pins it writes (per member
    manifest when the unit is a workspace whose members pin it differently)."""
    declarations = impact.declarations[variant]
    files = list(dict.fromkeys(d.manifest for d in declarations))
    if len(_allowed_per_manifest(declarations)) > 1:
        pins = [
            f"{path}: " + ", ".join(dict.fromkeys(d.specifier or d.url or "unpinned" for d in declarations
                                                  if d.manifest == path))
            for path in files
        ]  # fmt: skip
        return f"{variant}: {', '.join(impact.locked[variant]) or 'not locked'} ({'; '.join(pins)})"
    pins = list(dict.fromkeys(d.specifier or d.url or "unpinned" for d in declarations))
    return f"{variant}: {', '.join(impact.locked[variant]) or 'not locked'} ({', '.join(pins)})"
