"""Without a sandbox: audit what a pull request's own locks changed against its base, running no uv."""

from __future__ import annotations

from bot.files.lockdiff import diff_locks
from bot.files.lockfile import Lock, parse_lock
from bot.model import Section, Unresolved
from bot.pipeline import api_steps
from bot.pipeline.context import Context
from bot.tools import gitrepo
from bot.tools.proc import child_env


async def audit_lock_changes(ctx: Context, base: str, *, reason: str) -> None:
    """Fill `ctx` with the changes between `base`'s locks and the head's, audited statically.

    The head's locks are what the pull request brings (a bot's own re-lock); nothing is pinned or
    re-locked here, so no build backend runs. `reason` says why the upgrade itself did not run.
    """
    env = child_env(ctx.environ)
    old: dict[str, Lock] = {}
    for variant in ctx.variants:
        text = await gitrepo.file_at(ctx.repo, base, variant.lock, env=env)
        old[variant.name] = parse_lock(text, display=variant.lock) if text else ctx.baseline[variant.name]
    head = dict(ctx.baseline)
    requested = {item.name for item in ctx.request.items}
    ctx.changes = diff_locks(old, head, requested=requested, focused=ctx.focused)
    ctx.baseline, ctx.new_locks = old, head
    ctx.sections["lock"] = Section("done")
    ctx.unresolved.append(Unresolved("sandbox", reason))
    await api_steps.audit(ctx)
