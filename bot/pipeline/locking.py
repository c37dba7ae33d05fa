"""Steps 2, 3 and 5: lock each affected variant, resolve our own blocking pins, check and diff the result."""

from __future__ import annotations

from functools import partial

from bot.files.lockdiff import diff_locks
from bot.files.lockfile import read_lock
from bot.files.units import in_lock_order
from bot.model import Requested, Resolution, Section, Variant, Warning_
from bot.pipeline.blockers import check_landed, report_failure
from bot.pipeline.conflicts import MAX_ROUNDS, Diagnosis, LockProblem, diagnose
from bot.pipeline.context import Context, timed
from bot.pipeline.impact import PinTarget
from bot.text.render import render
from bot.text.wording import say


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
    failed = await _lock_units(ctx, order, pins, targets, protected)
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


async def _lock_units(
    ctx: Context, order: list[Variant], pins: dict[str, list[str]], targets: list[PinTarget],
    protected: frozenset[str],
) -> list[str]:  # fmt: skip
    """Lock each unit once, in `order` (a unit after those it reaches by path); the names that failed.

    One after the other: units that reach no other could run side by side."""
    failed = []
    for unit in order:
        await ctx.progress(f"lock {unit.name}")
        ctx.files.remember(unit.lock)
        items = [t.item for t in targets if t.variant == unit.name]
        with timed(ctx.observer, "lock"):  # each unit's lock, its conflict rounds included
            locked = await _lock_variant(ctx, unit.name, pins[unit.name], items, protected)
        if not locked:
            failed.append(unit.name)
    return failed


async def _lock_variant(
    ctx: Context, name: str, pins: list[str], items: list[Requested], protected: frozenset[str]
) -> bool:
    variant = ctx.variant(name)
    for round_ in range(MAX_ROUNDS + 1):
        attempt = await ctx.locker.lock(variant, pins=pins)
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
