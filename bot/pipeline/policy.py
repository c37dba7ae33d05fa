"""Dependency policy checks (pure): downgrades, pre-releases and yanks; pin style; compatible pairs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from bot.errors import RefusedError
from bot.files.config import Config
from bot.files.lockfile import Lock
from bot.files.manifest import Manifest, parse_requirement
from bot.files.specifiers import next_major
from bot.model import Declaration, Request, Unresolved, Warning_
from bot.text.wording import say

# Force-pins by design (the AReaL procedure pins through overrides on purpose): never policed.
_FORCED = ("[tool.uv].override-dependencies", "[tool.uv].constraint-dependencies")


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def check_request(
    request: Request,
    baseline: Mapping[str, Mapping[str, tuple[str, ...]]],
    *,
    yanked: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Warning_]:
    """Checks before anything is edited; `baseline` is variant -> package -> locked versions.

    A requested version older than every version the variant's lock holds is a downgrade: refused
    (RefusedError naming the argument) unless `--allow-downgrade`. Pre-releases and versions in
    `yanked` (package -> version -> reason, from index data when the caller has it) are warnings.
    """
    warnings: list[Warning_] = []
    for item in request.items:
        wanted = Version(item.version)
        for variant in [item.variant] if item.variant else sorted(baseline):
            locked = [v for v in map(_version, baseline.get(variant or "", {}).get(item.name, ())) if v]
            if not locked or wanted >= min(locked):
                continue
            values = {"version": item.version, "locked": str(min(locked)), "variant": variant}
            if not request.allow_downgrade:
                raise RefusedError(say("policy", "downgrade", argument=item.text, **values))
            warnings.append(Warning_(say("policy", "downgrade_allowed", package=item.display, **values)))
        if wanted.is_prerelease:
            warnings.append(Warning_(say("policy", "prerelease", package=item.display, version=item.version)))
        reasons = (yanked or {}).get(item.name, {})
        if item.version in reasons:
            message = say(
                "policy", "yanked", package=item.display, version=item.version, reason=reasons[item.version]
            )
            warnings.append(Warning_(message))
    return warnings


def pin_problem(
    declaration: Declaration, locked: str | None = None
) -> tuple[Literal["exact_pin", "no_cap"], str] | None:
    """Why a declaration breaks the range policy, with the range it should have (its floor, else the
    `locked` version, capped at the next major); None if it does not."""
    if declaration.url or declaration.section in _FORCED:
        return None
    try:
        specifiers = list(SpecifierSet(declaration.specifier))
    except InvalidSpecifier:
        return None
    floors = [_version(s.version) for s in specifiers if s.operator in (">=", ">", "~=", "==", "===")]
    floor = max((v for v in floors if v), default=None) or (_version(locked) if locked else None)
    suggestion = f">={floor.public},<{next_major(floor)}" if floor else "<next major"
    if any(s.operator in ("==", "===") and not s.version.endswith(".*") for s in specifiers):
        return "exact_pin", suggestion
    capped = any(s.operator in ("<", "<=", "~=") or s.version.endswith(".*") for s in specifiers)
    return None if capped else ("no_cap", suggestion)


def check_policy(
    config: Config, manifests: Mapping[str, Manifest], new_locks: Mapping[str, Lock]
) -> list[Unresolved]:
    """Policy violations with file and line.

    Pin style (`[policy] pins = "range"`) is advisory, so non-blocking and of its own kind
    ("pin-style"): the upgrade is correct either way and old pins should not fail its check run.
    A violated `[[policy.pair]]` is blocking: the resolved combination is known not to work.
    `new_locks` is variant -> lock; `manifests` is path -> Manifest.
    """
    pins = _pin_violations(manifests, new_locks) if config.policy.pins == "range" else []
    return pins + _pair_violations(config, new_locks)


def _pin_violations(manifests: Mapping[str, Manifest], new_locks: Mapping[str, Lock]) -> list[Unresolved]:
    found = []
    locked: dict[str, set[str]] = {}
    for lock in new_locks.values():
        for name, versions in lock.versions().items():
            locked.setdefault(name, set()).update(versions)
    for path in sorted(manifests):
        manifest = manifests[path]
        unique = {
            (d.line, d.requirement): d
            for name in manifest.direct_dependencies()
            for d in manifest.declarations(name)
        }
        for declaration in sorted(unique.values(), key=lambda d: d.line):
            name = canonicalize_name(parse_requirement(declaration.requirement).name)
            single = locked.get(name, set())
            problem = pin_problem(declaration, next(iter(single)) if len(single) == 1 else None)
            if problem:
                kind, suggestion = problem
                message = say("policy", kind, requirement=declaration.requirement, suggestion=suggestion)
                found.append(
                    Unresolved("pin-style", message, declaration.manifest, declaration.line, blocking=False)
                )
    return found


def _pair_violations(config: Config, new_locks: Mapping[str, Lock]) -> list[Unresolved]:
    found = []
    for number, pair in enumerate(config.policy.pairs, 1):
        when, require = Requirement(pair.when), Requirement(pair.require)
        for variant in sorted(new_locks):
            lock = new_locks[variant]
            versions = lock.versions()
            present = versions.get(canonicalize_name(when.name), ())
            if not any(when.specifier.contains(v, prereleases=True) for v in present):
                continue
            resolved = versions.get(canonicalize_name(require.name), ())
            if resolved and all(require.specifier.contains(v, prereleases=True) for v in resolved):
                continue
            shown = ", ".join(f"{require.name} {v}" for v in resolved) or f"no {require.name}"
            message = say(
                "policy", "pair", number=number, when=pair.when, require=pair.require,
                variant=variant, lock=lock.path, found=shown,
            )  # fmt: skip
            subject = canonicalize_name(require.name)
            found.append(Unresolved("policy", message, lock.path, blocking=True, subject=subject))
    return found
