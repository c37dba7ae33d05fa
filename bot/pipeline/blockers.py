"""Says what keeps an upgrade from landing, located at the declaration or line that blocks it."""

from __future__ import annotations

import re
from collections.abc import Sequence

from packaging.utils import canonicalize_name
from packaging.version import Version

from bot.files import repofiles
from bot.files.specifiers import admits
from bot.model import Declaration, Requested, Unresolved, Warning_
from bot.pipeline.conflicts import MAX_ROUNDS, Diagnosis
from bot.pipeline.context import Context
from bot.pipeline.derivation import Clause, clauses, contested, requirers
from bot.pipeline.impact import PinTarget
from bot.text.wording import say

_LOCK_NAME = re.compile(r'^name = "([^"]+)"', re.MULTILINE)


def lock_line(ctx: Context, lock: str, package: str) -> int | None:
    """The line of the package's first `[[package]]` entry in a lock file of the repository."""
    try:
        text = repofiles.read_text(ctx.repo, lock)
    except (OSError, UnicodeDecodeError):
        return None
    wanted = canonicalize_name(package)
    for match in _LOCK_NAME.finditer(text):
        if canonicalize_name(match.group(1)) == wanted:
            return text.count("\n", 0, match.start()) + 1
    return None


def locate(ctx: Context, variant: str, package: str) -> tuple[str, int | None]:
    """Where a person changes `package` for `variant`: its first declaration in the variant's
    manifest as the repository wrote it, else its entry in the variant's lock, else the manifest."""
    found = ctx.declared_in_unit(variant, package)
    if found and found[0].line:
        return found[0].manifest, found[0].line
    lock = ctx.variant(variant).lock
    line = lock_line(ctx, lock, package)
    return (lock, line) if line else (ctx.variant(variant).manifest, None)


def _requested(items: Sequence[Requested], found: Sequence[Clause], explanation: str) -> Requested | None:
    """The requested pin a failure is about: one an upstream package in it comes from, else one it
    names, else the first."""
    whos = {c.who for c in found}
    named = [i for i in items if i.name in whos] or [i for i in items if _mentions(explanation, i.name)]
    chosen = named or list(items)
    return chosen[0] if chosen else None


def _mentions(text: str, package: str) -> bool:
    words = {canonicalize_name(w.split("[")[0].rstrip("<>=!~0123456789.*,;:()")) for w in text.split()}
    return canonicalize_name(package) in words


def _conflict(
    ctx: Context, name: str, package: str, found: Sequence[Clause], items: Sequence[Requested]
) -> Unresolved:
    """One clash of upstream requirements on `package`: who requires what, and what the repository
    pins, at the repository's own pin of it (else at the requested pin that brings the clash in)."""
    requires = [say("conflicts", "requires", **vars(c.requires)) for c in requirers(found, package)]
    declared = ctx.declared(name).declarations(package)
    pins = [say("conflicts", "pin", requirement=d.requirement, section=d.section) for d in declared]
    asked = next((i for i in items if i.name == package), None)
    if asked is not None:
        message = say("conflicts", "against_request", variant=name, package=package, requires=requires,
                      requested=asked.text, pins=pins)  # fmt: skip
    else:
        message = say("conflicts", "upstream", variant=name, package=package, requires=requires, pins=pins)
    file, line = _conflict_site(ctx, name, package, requirers(found, package), items)
    return Unresolved("conflict", message, file, line, subject=package)


def _conflict_site(
    ctx: Context, name: str, package: str, found: Sequence[Clause], items: Sequence[Requested]
) -> tuple[str, int | None]:
    """The line a person changes: the repository's own pin of the package in dispute, else the
    requested pin that brings the clash in, else the repository's pin of an upstream package in it,
    else the package's entry in the variant's lock."""
    brought = _requested(items, found, "")
    for candidate in (package, *([brought.name] if brought else []), *(c.who for c in found)):
        declared = ctx.declared_in_unit(name, candidate)
        if declared and declared[0].line:
            return declared[0].manifest, declared[0].line
    return locate(ctx, name, package)


def report_failure(ctx: Context, name: str, diagnosis: Diagnosis, items: Sequence[Requested]) -> None:
    """The variant's lock failure as unresolved conflicts, each located, and family co-upgrade hints."""
    found = clauses(diagnosis.output, roots=ctx.roots(name))
    packages = contested(found, [i.name for i in items]) if diagnosis.kind == "upstream" else ()
    for package in packages:
        ctx.unresolved.append(_conflict(ctx, name, package, found, items))
    if not packages:
        key = {"upstream": "upstream_unread", "unavailable": "unavailable", "failed": "failed"}.get(
            diagnosis.kind, "rounds"
        )
        message = say("conflicts", key, variant=name, explanation=diagnosis.explanation, rounds=MAX_ROUNDS)
        asked = _requested(items, found, diagnosis.explanation)
        file, line = locate(ctx, name, asked.name) if asked else (ctx.variant(name).manifest, None)
        subject = asked.name if asked else ""
        ctx.unresolved.append(Unresolved("conflict", message, file, line, subject=subject))
    protected = {i.name for i in items}
    for family, members in ctx.config.families().items():
        requested = [m for m in members if m in protected]
        for member in (m for m in members if m not in protected):
            if requested and _mentions(diagnosis.explanation, member):
                message = say("conflicts", "constrains", member=member, family=family, requested=requested)
                ctx.warnings.append(Warning_(message))


def _blocker(ctx: Context, target: PinTarget) -> Declaration | None:
    unit = ctx.variant(target.variant)
    manifests = [ctx.manifest_at(path) for path in unit.manifests]
    blockers = [
        d for manifest in manifests for d in manifest.declarations(target.item.name)
        if d.url or (d.specifier and not admits(d.specifier, target.item.version))
    ]  # fmt: skip
    sources = (manifest.source_of(target.item.name) for manifest in manifests)
    return blockers[0] if blockers else next((s for s in sources if s is not None), None)


def check_landed(ctx: Context, targets: Sequence[PinTarget]) -> None:
    """Each requested version that the new lock does not hold, at the declaration that kept another
    (else at the requested package's own pin, or its lock entry)."""
    for target in targets:
        lock = ctx.new_locks[target.variant]
        versions = lock.versions().get(target.item.name, ())
        if any(Version(v) == Version(target.item.version) for v in versions):
            continue
        where = _blocker(ctx, target)
        if where is not None:
            reason = say("conflicts", "kept_by", section=where.section, requirement=where.requirement)
            file, line = where.manifest, where.line or None
        else:
            reason = say("conflicts", "kept_elsewhere")
            file, line = locate(ctx, target.variant, target.item.name)
        message = say("conflicts", "not_landed", package=target.item.display, versions=versions,
                      lock=lock.path, wanted=target.item.version, reason=reason)  # fmt: skip
        # A URL pin reported by the pins step and now keeping the version: one item, the blocking one.
        ctx.unresolved[:] = [
            u for u in ctx.unresolved if not (u.kind == "url-pin" and (u.file, u.line) == (file, line))
        ]
        ctx.unresolved.append(Unresolved("not-landed", message, file, line, subject=target.item.name))
