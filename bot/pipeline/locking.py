"""Steps 2, 3 and 5: lock each affected variant, resolve our own blocking pins, check and diff the result."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from bot.files import repofiles
from bot.files.lockdiff import diff_locks
from bot.files.lockfile import read_lock
from bot.files.units import in_lock_order
from bot.model import Requested, Resolution, Section, Variant, Warning_
from bot.pipeline.blockers import check_landed, report_failure
from bot.pipeline.conflicts import MAX_ROUNDS, Diagnosis, LockProblem, diagnose
from bot.pipeline.context import Context, timed
from bot.pipeline.impact import PinTarget
from bot.pipeline.lock_jobs import VariantJob, lock_variants
from bot.pipeline.parallel import sync
from bot.text.render import render
from bot.text.wording import say
from bot.tools.proc import Completed


async def lock_all(ctx: Context, targets: list[PinTarget]) -> bool:
    """Lock every unit a target touches, and every unit reaching one by a path dependency; False
    when a unit could not be locked.

    A unit that fails does not stop the others: each unit's conflicts are reported.
    """
    pins: dict[str, list[str]] = {}
    for target in targets:
        pinned = pins.setdefault(target.variant, [])
        # A URL or [tool.uv.sources] pin decides the version itself; asking uv for another one would
        # only fail. Lock without it and let the landed check name the declaration that kept it.
        unit = ctx.variant(target.variant)
        sourced = any(ctx.manifest_at(path).source_of(target.item.name) for path in unit.manifests)
        if not any(d.url for d in target.declarations) and not sourced:
            pinned.append(f"{target.item.name}=={target.item.version}")
    protected = frozenset(target.item.name for target in targets)
    # A workspace member that two root variants share was edited for both, whichever was asked for.
    edited = set(ctx.files.changed())
    for unit in ctx.variants:
        if edited & set(unit.manifests):
            pins.setdefault(unit.name, [])
    order = in_lock_order(ctx.variants, list(pins))
    for unit in order:
        pins.setdefault(unit.name, [])  # reached by path: locked again for the other unit's new pins
        ctx.files.remember(unit.lock)

    async def job(sink: Context, name: str, root: Path) -> bool:
        items = [t.item for t in targets if t.variant == name]
        with timed(ctx.observer, "lock"):  # each unit's lock, its conflict rounds included
            return await _lock_variant(sink, name, pins[name], items, protected, root=root)

    failed = await _lock_units(ctx, order, job)
    ctx.sections["lock"] = Section("done")
    if failed:
        return False
    ctx.locked = [v.name for v in ctx.variants if v.name in pins]
    ctx.new_locks = {
        v.name: read_lock(ctx.repo, v.lock) if v.name in pins else ctx.baseline[v.name] for v in ctx.variants
    }
    check_landed(ctx, targets)
    ctx.changes = diff_locks(ctx.baseline, ctx.new_locks, requested=protected, focused=ctx.focused)
    changed = set(ctx.files.changed())
    locks = [v.lock for v in ctx.variants if v.name in pins and v.lock in changed]
    if locks:
        names = [v.name for v in ctx.variants if v.lock in locks]
        ctx.snapshot(partial(render, "commit-locks.txt.j2", variants=names, changes=ctx.changes), locks)
    return True


async def _lock_units(ctx: Context, order: list[Variant], job: VariantJob) -> list[str]:
    """Lock each unit once; the names that failed. In waves: the units whose path dependencies are
    locked lock at the same time (see `lock_variants`), the ones reaching them in the next wave."""
    outcomes: dict[str, bool] = {}
    for wave in _waves(order):
        names = [unit.name for unit in wave]
        outcomes.update(zip(names, await lock_variants(ctx, names, job), strict=True))
    return [unit.name for unit in order if not outcomes[unit.name]]


def _waves(order: list[Variant]) -> list[list[Variant]]:
    """`order` cut where a unit reaches one locked in the same wave (uv reads that unit's manifests,
    which the other's conflict rounds may move)."""
    waves: list[list[Variant]] = [[]]
    for unit in order:
        if {u.name for u in waves[-1]} & set(unit.after):
            waves.append([])
        waves[-1].append(unit)
    return [wave for wave in waves if wave]


async def _lock_variant(
    ctx: Context, name: str, pins: list[str], items: list[Requested], protected: frozenset[str], *, root: Path
) -> bool:
    """Lock one variant in `root`, moving our own blocking pins for at most MAX_ROUNDS more attempts.

    In a copy, each attempt starts from the repository's manifest (the rounds edit it there), and the
    new lock is copied back.
    """
    variant = ctx.variant(name)
    for round_ in range(MAX_ROUNDS + 1):
        attempt = await _attempt(ctx, variant, pins, root)
        if attempt.returncode == 0:
            return True
        problem = LockProblem(
            variant, ctx.manifests[name], tuple(pins), protected, attempt.output, ctx.roots(name),
            ctx.baseline[name].versions(), ctx.config.policy.resolve,
            tuple(ctx.manifest_at(path) for path in variant.members),
        )  # fmt: skip
        diagnosis = await diagnose(ctx.repo, problem, locker=ctx.locker)
        if diagnosis.kind != "own-pins" or round_ == MAX_ROUNDS:
            report_failure(ctx, name, diagnosis, items)
            return False
        _move_pins(ctx, name, diagnosis)
    return False


async def _attempt(ctx: Context, variant: Variant, pins: list[str], root: Path) -> Completed:
    """One `uv lock` of `variant` in `root`, again while a unit locking at the same time moved a pin
    in a workspace member both share: the lock always holds the members' final pins."""
    copied = root != ctx.repo
    while True:
        shared = {path: repofiles.read_bytes(ctx.repo, path) for path in variant.members}
        if copied:
            sync(ctx.repo, root, list(variant.manifests))
        attempt = await ctx.locker.lock(variant, pins=pins, root=root if copied else None)
        if all(repofiles.read_bytes(ctx.repo, path) == text for path, text in shared.items()):
            break
    if attempt.returncode == 0 and copied:
        sync(root, ctx.repo, [variant.lock])
    return attempt


def _move_pins(ctx: Context, name: str, diagnosis: Diagnosis) -> None:
    for move in diagnosis.moves:
        path = move.declaration.manifest  # the unit's own manifest, or a workspace member's
        current = ctx.manifest_at(path)
        old = move.old_specifier
        text, changed = current.rewrite(move.package, partial(_swap, old=old, new=move.new_specifier))
        ctx.write_manifest_at(path, text)
        because = "; ".join(say("conflicts", "requires", **vars(r)) for r in move.requirements)
        resolution = Resolution(
            package=move.package,
            old_specifier=old,
            new_specifier=move.new_specifier,
            variant=name,
            because=because or diagnosis.explanation,
            declarations=tuple(changed),
            requirements=move.requirements,
            version=move.resolved,
            newest=move.newest,
            strategy=ctx.config.policy.resolve,
            least=move.least,
            own=move.own,
        )
        ctx.resolutions.append(resolution)
        family = ctx.config.packages.get(move.package)
        if family is not None and family.family:
            message = say("conflicts", "co_upgrade", package=move.package, family=family.family, old=old,
                          new=move.new_specifier)  # fmt: skip
            ctx.warnings.append(Warning_(message, file=path, line=move.declaration.line))
        ctx.snapshot(partial(render, "commit-resolve.txt.j2", resolution=resolution), [path])


def _swap(spec: str, *, old: str, new: str) -> str | None:
    return new if spec == old else None
