"""`upgrade-deps audit PKG==OLD..NEW ...`: runs step 6 alone on a checkout and prints the findings."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from argparse import Namespace
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import InvalidName, canonicalize_name
from packaging.version import InvalidVersion, Version

from bot.audit.dist_lookup import find_distribution
from bot.audit.fetch import SIMPLE_ACCEPT, http_get, redact_url
from bot.audit.messages import audit_text
from bot.audit.runner import run_audit
from bot.errors import BadArgumentsError, RefusedError, UpgradeDepsError
from bot.files.config import Config, load_config
from bot.files.lockfile import Lock, read_lock
from bot.files.units import discover_units
from bot.model import AuditReport, LockedPackage, Variant, VersionChange
from bot.settings import default_cache_dir, local_environ

_CHANGE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^.\s][^\s]*?)\.\.([^\s]+)\s*$")


@dataclass(frozen=True)
class RequestedAudit:
    package: str
    old: str
    new: str


def parse_change(text: str) -> RequestedAudit:
    """`pkg==1.0..2.0` -> RequestedAudit; a clear error naming the argument otherwise."""
    match = _CHANGE.match(text)
    if match is None:
        raise BadArgumentsError(f"argument {text!r}: expected PKG==OLD..NEW, e.g. peft==0.17.0..0.18.1")
    name, old, new = match.groups()
    try:
        package = canonicalize_name(name, validate=True)
        Version(old), Version(new)
    except (InvalidName, InvalidVersion) as exc:
        raise BadArgumentsError(f"argument {text!r}: {exc}") from None
    return RequestedAudit(package, old, new)


def _variants(repo: Path, config: Config) -> tuple[Variant, ...]:
    try:
        return discover_units(repo, config)
    except RefusedError:
        return ()


async def _simple(url: str) -> bytes:
    return await http_get(url, accept=SIMPLE_ACCEPT)


async def audit_command(
    repo: Path, config: Config, wanted: list[RequestedAudit], *, cache_dir: Path
) -> AuditReport:
    """Locate each version's distribution (locks, then the repository's indexes) and audit."""
    variants = _variants(repo, config)
    locks = [read_lock(repo, v.lock) for v in variants if (repo / v.lock).is_file()]
    manifests = [path for v in variants for path in v.manifests] or ["pyproject.toml"]
    old_packages: dict[str, tuple[LockedPackage, ...]] = {}
    new_packages: dict[str, tuple[LockedPackage, ...]] = {}
    for item in wanted:
        for version, into in ((item.old, old_packages), (item.new, new_packages)):
            entry, searched = await find_distribution(
                repo, locks, item.package, version, manifests=manifests, get=_simple
            )
            if entry is None:
                where = ", ".join(redact_url(s) for s in searched) or "no lock file and no index configured"
                raise RefusedError(f"{item.package} {version}: no distribution found (searched: {where})")
            into[item.package] = (entry,)
    changes = [VersionChange(i.package, (i.old,), (i.new,), ("cli",), True, True) for i in wanted]
    old_lock = {"cli": Lock("(old)", old_packages, frozenset())}
    new_lock = {"cli": Lock("(new)", new_packages, frozenset())}
    return await run_audit(repo, config, changes, old_lock, new_lock, cache_dir=cache_dir)


def main(args: Namespace) -> int:
    """Exit 0 when no finding is an error, 1 when one is, 2 when the request is refused."""
    repo = Path(args.repo).resolve()
    cache_dir = Path(getattr(args, "cache_dir", None) or default_cache_dir(local_environ()))
    try:
        wanted = [parse_change(text) for text in args.changes]
        config = load_config(repo, Path(args.config) if args.config else None)
        report = asyncio.run(audit_command(repo, config, wanted, cache_dir=cache_dir))
    except RefusedError as exc:
        print(f"upgrade-deps audit: {exc}", file=sys.stderr)
        return 2
    except UpgradeDepsError as exc:
        print(f"upgrade-deps audit: {exc}", file=sys.stderr)
        return 1
    skipped = tuple(i.package for i in wanted if i.package not in {p.package for p in report.packages})
    if args.format == "json":
        keys = ("file", "line", "column", "package", "symbol", "kind", "severity", "message")
        print(json.dumps([{k: getattr(f, k) for k in keys} for f in report.findings], indent=2))
    else:
        sys.stdout.write(audit_text(report, skipped=skipped))
    if any(p.error for p in report.packages):
        return 2
    return 1 if report.has_errors else 0
