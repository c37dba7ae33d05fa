"""Steps 0.5 and 6 inside the pipeline: checklist validation and the API compatibility audit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bot.model import Section
from bot.pipeline.context import Context, timed
from bot.pipeline.progress import announced
from bot.text.render import render

if TYPE_CHECKING:
    from bot.audit.runner import EarlyGuards


def _checklists_present(ctx: Context) -> bool:
    from checklists.locate import DEFAULT_DIRS

    if ctx.config.checklists.dir:
        return True
    return any((ctx.repo / d).is_dir() for d in DEFAULT_DIRS)


async def validate(ctx: Context, packages: Sequence[str], *, reason: str) -> None:
    """Step 0.5 for `packages`: compare each checklist with the real imports and fix it in place.

    Runs only where the repository keeps checklists; the changes become a commit of their own.
    """
    wanted = [p for p in packages if p in ctx.focused and p not in ctx.validated]
    if not _checklists_present(ctx):
        ctx.sections["checklists"] = Section("not run", "the repository keeps no API checklists")
        return
    if not wanted:
        ctx.sections.setdefault("checklists", Section("done"))
        return
    from bot.audit.roots import distribution_roots
    from checklists.validate import validate_checklists

    async with announced(ctx.progress, "checklists"):
        roots = await distribution_roots(ctx.repo, ctx.baseline, wanted, cache_dir=ctx.cache_dir)
        reports = validate_checklists(
            ctx.repo, ctx.config, wanted, fix=True, distribution=roots, write=ctx.files.write
        )
    ctx.validated.update(wanted)
    ctx.checklists += tuple(reports)
    fixed = [r for r in reports if r.fixed]
    if fixed:
        message = render("commit-checklists.txt.j2", reports=fixed, reason=reason)
        # Requested packages' checklists are validated before anything else moves (seed step 0.5),
        # so their commit comes first even though the work overlaps with locking.
        ctx.snapshot(message, [r.path for r in fixed], first=reason == "requested")
    ctx.sections["checklists"] = Section("done")


async def audit(ctx: Context, *, guards: Mapping[str, EarlyGuards] | None = None) -> None:
    """Step 6 for every focused package whose resolved version changed (`guards`: version guards
    found while uv locked)."""
    changed = [c for c in ctx.changes if c.focused]
    if not changed:
        ctx.sections["audit"] = Section("done")
        return
    # The seed validates the checklists of transitively bumped packages before auditing them.
    await validate(ctx, [c.package for c in changed if not c.requested], reason="transitive")
    from bot.audit.runner import run_audit

    async with announced(ctx.progress, "audit"):
        with timed(ctx.observer, "audit"):
            report = await run_audit(
                ctx.repo, ctx.config, ctx.changes, ctx.baseline, ctx.new_locks, cache_dir=ctx.cache_dir,
                early_guards=guards,
            )  # fmt: skip
    ctx.audit = report
    ctx.sections["audit"] = Section("done")
    from bot.pipeline.fix_steps import fix

    await fix(ctx)
