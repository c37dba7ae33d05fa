"""Steps 2, 3 and 5: lock each affected variant, resolve our own blocking pins, check and diff the result."""

from __future__ import annotations

from functools import partial

from packaging.utils import canonicalize_name
from packaging.version import Version

from bot.files.lockdiff import diff_locks
from bot.files.lockfile import Lock, read_lock
from bot.files.specifiers import admits
from bot.model import Resolution, Section, Unresolved, Warning_
from bot.pipeline.conflicts import Diagnosis, diagnose
from bot.pipeline.context import Context, timed
from bot.pipeline.impact import PinTarget
from bot.text.render import render

MAX_ROUNDS = 3


async def lock_all(ctx: Context, targets: list[PinTarget]) -> bool:
    """Lock every variant a target touches; False when a variant could not be locked."""
    pins: dict[str, list[str]] = {}
    for target in targets:
        pinned = pins.setdefault(target.variant, [])
        # A URL or [tool.uv.sources] pin decides the version itself; asking uv for another one would
        # only fail. Lock without it and let the landed check name the declaration that kept it.
        manifest = ctx.manifests[target.variant]
        if not any(d.url for d in target.declarations) and manifest.source_of(target.item.name) is None:
            pinned.append(f"{target.item.name}=={target.item.version}")
    protected = {target.item.name for target in targets}
    for variant in ctx.variants:
        if variant.name not in pins:
            continue
        await ctx.progress(f"lock {variant.name}")
        ctx.files.remember(variant.lock)
        with timed(ctx.observer, "lock"):  # each variant's lock, its conflict rounds included
            locked = await _lock_variant(ctx, variant.name, pins[variant.name], protected)
        if not locked:
            ctx.sections["lock"] = Section("done")
            return False
    ctx.locked = [v.name for v in ctx.variants if v.name in pins]
    ctx.new_locks = {
        v.name: read_lock(ctx.repo, v.lock) if v.name in pins else ctx.baseline[v.name] for v in ctx.variants
    }
    _check_landed(ctx, targets)
    ctx.changes = diff_locks(ctx.baseline, ctx.new_locks, requested=protected, focused=ctx.focused)
    changed = set(ctx.files.changed())
    locks = [v.lock for v in ctx.variants if v.name in pins and v.lock in changed]
    if locks:
        names = [v.name for v in ctx.variants if v.lock in locks]
        ctx.snapshot(partial(render, "commit-locks.txt.j2", variants=names, changes=ctx.changes), locks)
    ctx.sections["lock"] = Section("done")
    return True


async def _lock_variant(ctx: Context, name: str, pins: list[str], protected: set[str]) -> bool:
    variant = ctx.variant(name)
    for round_ in range(MAX_ROUNDS + 1):
        attempt = await ctx.locker.lock(variant, pins=pins)
        if attempt.returncode == 0:
            return True
        diagnosis = await diagnose(
            ctx.repo, variant, ctx.manifests[name], pins=pins, protected=protected,
            failure=attempt.output, locker=ctx.locker,
        )  # fmt: skip
        if diagnosis.kind != "own-pins" or round_ == MAX_ROUNDS:
            _report_failure(ctx, name, diagnosis, protected)
            return False
        _move_pins(ctx, name, diagnosis)
    return False


def _move_pins(ctx: Context, name: str, diagnosis: Diagnosis) -> None:
    manifest = ctx.manifests[name]
    for move in diagnosis.moves:
        current = ctx.manifests[name]
        old = move.declaration.specifier
        text, changed = current.rewrite(move.package, partial(_swap, old=old, new=move.new_specifier))
        ctx.write_manifest(name, text)
        resolution = Resolution(
            package=move.package,
            old_specifier=old,
            new_specifier=move.new_specifier,
            variant=name,
            because=diagnosis.explanation,
            declarations=tuple(changed),
        )
        ctx.resolutions.append(resolution)
        family = ctx.config.packages.get(move.package)
        if family is not None and family.family:
            ctx.warnings.append(
                Warning_(
                    f"{move.package} (family {family.family}) was not in the request but its pin had to move "
                    f"from {old} to {move.new_specifier}; review it as a co-upgrade",
                    file=manifest.display,
                    line=move.declaration.line,
                )
            )
        ctx.snapshot(partial(render, "commit-resolve.txt.j2", resolution=resolution), [manifest.display])


def _swap(spec: str, *, old: str, new: str) -> str | None:
    return new if spec == old else None


def _report_failure(ctx: Context, name: str, diagnosis: Diagnosis, protected: set[str]) -> None:
    variant = ctx.variant(name)
    if diagnosis.kind == "unavailable":
        message = (
            f"variant {name}: a requested version cannot be installed from the configured index "
            f"({diagnosis.explanation})"
        )
    elif diagnosis.kind == "upstream":
        message = f"variant {name}: upstream packages require incompatible versions: {diagnosis.explanation}"
    else:
        message = (
            f"variant {name}: still unresolved after moving our own pins {MAX_ROUNDS} times: "
            f"{diagnosis.explanation}"
        )
    ctx.unresolved.append(Unresolved("conflict", message, file=variant.manifest))
    families = ctx.config.families()
    for family, members in families.items():
        requested = [m for m in members if m in protected]
        others = [m for m in members if m not in protected]
        for member in others:
            if requested and _mentions(diagnosis.explanation, member):
                ctx.warnings.append(
                    Warning_(
                        f"{member} (family {family}) constrains {', '.join(requested)} in this conflict; "
                        f"it probably needs a co-upgrade in the same request"
                    )
                )


def _mentions(text: str, package: str) -> bool:
    words = {canonicalize_name(w.split("[")[0].rstrip("<>=!~0123456789.*,")) for w in text.split()}
    return canonicalize_name(package) in words


def _check_landed(ctx: Context, targets: list[PinTarget]) -> None:
    for target in targets:
        lock: Lock = ctx.new_locks[target.variant]
        versions = lock.versions().get(target.item.name, ())
        wanted = Version(target.item.version)
        if any(Version(v) == wanted for v in versions):
            continue
        manifest = ctx.manifests[target.variant]
        blockers = [
            d for d in manifest.declarations(target.item.name)
            if d.url or (d.specifier and not admits(d.specifier, target.item.version))
        ]  # fmt: skip
        source = manifest.source_of(target.item.name)
        where = blockers[0] if blockers else source
        reason = (
            f"kept by {where.section} {where.requirement!r}"
            if where
            else "no declaration in the manifest excludes it; another requirement kept it"
        )
        ctx.unresolved.append(
            Unresolved(
                "not-landed",
                f"{target.item.display} resolved to {', '.join(versions) or 'nothing'} in {lock.path}, "
                f"not the requested {target.item.version}: {reason}",
                file=where.manifest if where else manifest.display,
                line=where.line if where else None,
            )
        )
