"""Derives from the manifests which variants each requested package touches (the impact matrix)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from packaging.requirements import Requirement

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
    package: str, variants: tuple[Variant, ...], manifests: Mapping[str, Manifest], locks: Mapping[str, Lock]
) -> Impact:
    declarations = {v.name: tuple(manifests[v.name].declarations(package)) for v in variants}
    locked = {v.name: locks[v.name].versions().get(package, ()) for v in variants}
    declared_in = [name for name, found in declarations.items() if found]
    present_in = [name for name, versions in locked.items() if versions]
    scope: Scope
    if not declared_in:
        scope = "transitive" if present_in else "absent"
    elif len(declared_in) == 1 or len(variants) == 1:
        scope = "variant-only" if len(variants) > 1 else "shared"
    else:
        # Divergent: the variants allow, or resolve, different versions.
        specs = {allows(declarations[n]) for n in declared_in}
        versions = {locked[n] for n in declared_in}
        scope = "shared-divergent" if len(specs) > 1 or len(versions) > 1 else "shared"
    return Impact(package, scope, declarations, locked)


def plan_targets(
    request: Request, variants: tuple[Variant, ...], impacts: Mapping[str, Impact]
) -> list[PinTarget]:
    """The (package, variant) pairs to edit and lock; refuses what needs the user to choose."""
    names = {v.name for v in variants}
    targets = []
    for item in request.items:
        impact = impacts[item.name]
        if item.variant is not None:
            if item.variant not in names:
                raise RefusedError(
                    f"{item.text!r}: no variant {item.variant!r} (variants: {', '.join(sorted(names))})"
                )
            chosen = [item.variant]
        elif impact.scope == "shared-divergent":
            current = "; ".join(_current(impact, name) for name in sorted(names) if impact.declarations[name])
            raise DivergentPackageError(
                f"{item.display} is pinned differently per variant ({current}); say which variant with "
                f"{item.display}=={item.version}@<variant>, once per variant to change"
            )
        else:
            chosen = [v.name for v in variants if impact.declarations[v.name] or impact.locked[v.name]]
        targets += [PinTarget(item, name, impact.declarations[name]) for name in chosen]
    return targets


def _current(impact: Impact, variant: str) -> str:
    """`default: 2.9.1 (==2.9.1)`: what a variant locks and, once each, the pins it writes."""
    pins = dict.fromkeys(d.specifier or d.url or "unpinned" for d in impact.declarations[variant])
    return f"{variant}: {', '.join(impact.locked[variant]) or 'not locked'} ({', '.join(pins)})"
