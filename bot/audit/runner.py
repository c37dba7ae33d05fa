"""Step 6 entry point: audits every changed focused package and returns the findings and summary sections."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import InvalidVersion, Version

from bot.audit.apimodel import ApiModel
from bot.audit.compare import Versions, compare_uses
from bot.audit.compat import ShimContext, check_shims
from bot.audit.distributions import Fetch, Unpacked, unpack_distribution
from bot.audit.fetch import fetch_file
from bot.audit.guards import Guard, find_guards, outcome
from bot.audit.messages import message
from bot.audit.strings import vanished_strings
from bot.audit.usage import find_uses
from bot.errors import ToolError, UpgradeDepsError
from bot.files import repofiles
from bot.files.config import Config
from bot.files.lockfile import Lock
from bot.files.python_sources import python_files
from bot.files.repofiles import UnsafePathError
from bot.model import AuditReport, Finding, GuardStatus, LockedPackage, PackageAudit, VersionChange
from checklists.document import Checklist, parse_checklist
from checklists.locate import checklist_path, import_names


def _sort_key(version: str) -> tuple[int, Version | str]:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def _entry(
    locks: Mapping[str, Lock], variants: Sequence[str], package: str, version: str
) -> LockedPackage | None:
    ordered = [*[v for v in variants if v in locks], *[v for v in locks if v not in variants]]
    for variant in ordered:
        for entry in locks[variant].packages.get(package, ()):
            if entry.version == version:
                return entry
    return None


def _checklist(repo: Path, config: Config, package: str) -> Checklist | None:
    """The package's checklist; an unreadable one is step 0.5's to report, the audit goes on without it."""
    relative = checklist_path(repo, config, package)
    try:
        text = repofiles.read_text(repo, relative)
    except (OSError, UnicodeDecodeError, UnsafePathError):
        return None
    return parse_checklist(text, display=relative)


def _catalog_lookup(checklist: Checklist | None) -> dict[str, str]:
    return {e.symbol: f"{e.number}. {e.symbol}" for e in checklist.entries} if checklist else {}


@dataclass(frozen=True)
class AuditScope:
    """What the audits of one run share: the checkout, its config, the caches and the code to search."""

    repo: Path
    config: Config
    cache_dir: Path  # downloaded distributions and extracted APIs
    fetch: Fetch  # how archives the lock records by URL are downloaded
    files: tuple[str, ...]  # the repository's Python files
    # Version guards found before the new locks existed: package -> (the import names searched, guards).
    early_guards: Mapping[str, EarlyGuards] = field(default_factory=dict)


EarlyGuards = tuple[frozenset[str], tuple[Guard, ...]]


def package_roots(repo: Path, config: Config, package: str, top_level: tuple[str, ...]) -> frozenset[str]:
    """The import names audited for `package`, given the top-level names its distribution ships."""
    checklist = _checklist(repo, config, package)
    names = import_names(package, config, checklist=checklist, distribution={package: top_level}).names
    return frozenset(names)


def guards_ahead(repo: Path, config: Config, package: str, top_level: tuple[str, ...]) -> EarlyGuards:
    """The version guards on `package` in the repository, found before locking (they depend only
    on the code); the audit uses them when it searches the same import names."""
    roots = package_roots(repo, config, package, top_level)
    return roots, tuple(find_guards(repo, package, roots, files=tuple(python_files(repo))))


def audit_package(
    scope: AuditScope, versions: Versions, old_dist: Unpacked, new_dist: Unpacked, *, floor: str | None = None
) -> PackageAudit:
    """The synchronous part of one package's audit (static analysis only; runs in a worker thread).

    `floor` is the lowest new version over all variants (default `versions.new`): guards and compat
    fallbacks are dead only when every variant is past them.
    """
    repo, config, files = scope.repo, scope.config, scope.files
    floor = floor or versions.new
    checklist = _checklist(repo, config, versions.package)
    roots = package_roots(repo, config, versions.package, new_dist.top_level or old_dist.top_level)
    old_api, new_api = (
        ApiModel(old_dist, cache_dir=scope.cache_dir),
        ApiModel(new_dist, cache_dir=scope.cache_dir),
    )
    catalog = _catalog_lookup(checklist)

    def entry_for(symbol: str) -> str | None:
        for name, label in catalog.items():
            if symbol == name or symbol.endswith("." + name) or symbol.startswith(name + "."):
                return label
        return None

    uses = find_uses(repo, roots, files=files)
    findings, moves = compare_uses(uses, old_api, new_api, versions, catalog=entry_for)
    old_api.save()
    new_api.save()
    if checklist is not None:
        findings += vanished_strings(repo, checklist, versions, old_dist.root, new_dist.root, files)
    guards, dead = _guards(scope, versions.package, roots, floor)
    findings += dead
    context = ShimContext(versions.package, roots, versions.old, floor, config.compat.window)
    findings += check_shims(repo, config.compat.shims, context, config_file=config.source)
    findings.sort(key=lambda f: (f.file, f.line, f.column, f.kind))
    return PackageAudit(
        versions.package,
        versions.old,
        versions.new,
        tuple(findings),
        tuple(moves),
        tuple(guards),
        roots=tuple(sorted(roots)),
    )


def _guards(
    scope: AuditScope, package: str, roots: frozenset[str], floor: str
) -> tuple[list[GuardStatus], list[Finding]]:
    """Every version guard on `package`, and a finding for each one the new floor makes dead."""
    guards, findings = [], []
    early = scope.early_guards.get(package)
    if early is not None and early[0] == roots:
        found: Sequence[Guard] = early[1]
    else:
        found = find_guards(scope.repo, package, roots, files=scope.files)
    for guard in found:
        result = outcome(guard, floor)
        guards.append(GuardStatus(guard.file, guard.line, guard.text, result is not None))
        if result is not None:
            text = message("version-guard", text=guard.text, outcome=result, package=package, floor=floor)
            findings.append(
                Finding(
                    guard.file, guard.line, guard.column, package, guard.text, "version-guard", "info", text
                )
            )
    return guards, findings


# PLR0913: the locks before and after and the changes between them are what is audited; the cache and
# the downloader are where from. Bundling any two would only move the list into a class.
async def run_audit(  # noqa: PLR0913
    repo: Path,
    config: Config,
    changes: Sequence[VersionChange],
    old_locks: Mapping[str, Lock],
    new_locks: Mapping[str, Lock],
    *,
    cache_dir: Path,
    fetch: Fetch = fetch_file,
    early_guards: Mapping[str, EarlyGuards] | None = None,
) -> AuditReport:
    """Audit each changed focused package (not `audit = false`) against the repository's code.

    A package whose distributions cannot be obtained gets an `error` note in its section rather than
    failing the whole step; findings never come from guesses. Archives the lock records by URL are
    downloaded with `fetch` (aiohttp by default); find-links files are read from the repository.
    `early_guards` are version guards found while uv locked (see `guards_ahead`).
    """
    files = await asyncio.to_thread(lambda: tuple(python_files(repo)))
    scope = AuditScope(repo, config, cache_dir, fetch, files, early_guards or {})
    results: list[PackageAudit] = []
    for change in changes:
        settings = config.packages.get(change.package)
        if (
            not change.focused
            or (settings is not None and not settings.audit)
            or not change.old
            or not change.new
        ):
            continue
        old_version = max(change.old, key=_sort_key)
        floor = min(change.new, key=_sort_key)
        # Variants may resolve different new versions (shared-divergent packages): audit each.
        for new_version in sorted(set(change.new), key=_sort_key):
            versions = Versions(change.package, old_version, new_version)
            results.append(await _audit_version(scope, change, versions, floor, (old_locks, new_locks)))
    return AuditReport(tuple(results))


async def _audit_version(
    scope: AuditScope,
    change: VersionChange,
    versions: Versions,
    floor: str,
    locks: tuple[Mapping[str, Lock], Mapping[str, Lock]],
) -> PackageAudit:
    old_entry = _entry(locks[0], change.variants, change.package, versions.old)
    new_entry = _entry(locks[1], change.variants, change.package, versions.new)
    if old_entry is None or new_entry is None:
        return PackageAudit(change.package, versions.old, versions.new, error="not found in the lock files")
    try:
        # Both archives at once: downloading and unpacking overlap (the unpacking runs in threads).
        # return_exceptions: both finish before we go on, so no unpacking is left running unseen.
        outcomes = await asyncio.gather(
            unpack_distribution(scope.repo, old_entry, cache_dir=scope.cache_dir, fetch=scope.fetch),
            unpack_distribution(scope.repo, new_entry, cache_dir=scope.cache_dir, fetch=scope.fetch),
            return_exceptions=True,
        )
        failed = [o for o in outcomes if isinstance(o, BaseException)]
        if failed:
            raise failed[0]
        old_dist, new_dist = (o for o in outcomes if isinstance(o, Unpacked))
        if not new_dist.top_level or not old_dist.top_level:
            raise ToolError(f"{change.package}: the distribution holds no Python module to audit")
        return await asyncio.to_thread(audit_package, scope, versions, old_dist, new_dist, floor=floor)
    except UpgradeDepsError as exc:
        return PackageAudit(change.package, versions.old, versions.new, error=str(exc))
