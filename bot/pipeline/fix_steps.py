"""The mechanical fixes after the audit: one commit each, checked by the verification commands, re-audited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.files import repofiles
from bot.files.config import Config
from bot.fix.compat_fix import Edits
from bot.model import FixResult, PackageAudit, Section, VerifyResult
from bot.pipeline.context import Context
from bot.text.render import render

Fixer = Callable[..., tuple[FixResult | None, Edits]]


def _audited(ctx: Context) -> list[PackageAudit]:
    """One audit per package: a package whose variants resolved several new versions is not fixed,
    since a rewrite proven against one of them is not proven against the others."""
    if ctx.audit is None:
        return []
    audits = [a for a in ctx.audit.packages if a.error is None]
    counts = {a.package: sum(b.package == a.package for b in audits) for a in audits}
    return [a for a in audits if counts[a.package] == 1]


def _fixers(config: Config) -> list[tuple[str, Fixer]]:
    from bot.fix.api_fix import api_fix
    from bot.fix.compat_fix import compat_fix

    wanted: list[tuple[str, Fixer]] = []
    if config.fix_compat:
        wanted.append(("commit-compat.txt.j2", compat_fix))
    if config.fix.api:
        wanted.append(("commit-api.txt.j2", api_fix))
    return wanted


def pushes(ctx: Context) -> bool:
    """Whether fixes are written and committed; otherwise they are only suggested (forks, `suggest`)."""
    return ctx.trusted and ctx.fix_mode == "push"


async def fix(ctx: Context) -> None:
    """Apply (or, where the bot may not push, only compute) every proven fix, then audit again."""
    fixers = _fixers(ctx.config) if ctx.fix_mode != "off" else []
    audits = _audited(ctx)
    if not fixers or not audits:
        return
    await ctx.progress("fix")
    applied = False
    for audit in audits:
        for template, fixer in fixers:
            result, edits = fixer(ctx.config, audit, read=lambda path: repofiles.read_text(ctx.repo, path))
            if result is None:
                continue
            if not pushes(ctx):
                ctx.fixes.append(result)
                continue
            result = await _apply(ctx, result, edits, template)
            applied = applied or result.reverted is None
            ctx.fixes.append(result)
    if applied:
        await _reaudit(ctx)
    ctx.sections["fix"] = Section("done")


async def _apply(ctx: Context, result: FixResult, edits: Edits, template: str) -> FixResult:
    """Write one fix as its own commit; drop it again if it breaks a verification command that passed."""
    changed = edits.changed()
    for path, text in changed.items():
        ctx.files.write(path, text)
    subject = render(template, fix=result).splitlines()[0]
    ctx.snapshot(lambda: render(template, fix=result), list(changed))
    broken = await _broken(ctx)
    if broken:
        for path in changed:
            ctx.files.write(path, edits.before[path])
        ctx.snapshots.pop()
        return replace(result, reverted=", ".join(broken))
    return replace(result, commit=subject)


async def _broken(ctx: Context) -> list[str]:
    """The verification commands that passed before the fix and do not now (run again only when some
    passed: a fix is never judged by a command that already failed)."""
    passed = {v.name for v in ctx.verify if v.status == "pass"}
    if not passed:
        return []
    from bot.pipeline.verify import run_verify

    await ctx.progress("verify")
    again: tuple[VerifyResult, ...] = await run_verify(
        ctx.repo, ctx.config, ctx.locked, environ=ctx.environ, trusted=ctx.trusted, isolation=ctx.isolation,
        extras=ctx.extras,
    )  # fmt: skip
    return [v.name for v in again if v.name in passed and v.status != "pass"]


async def _reaudit(ctx: Context) -> None:
    from bot.audit.runner import run_audit

    await ctx.progress("audit")
    ctx.audit = await run_audit(
        ctx.repo, ctx.config, ctx.changes, ctx.baseline, ctx.new_locks, cache_dir=ctx.cache_dir
    )
