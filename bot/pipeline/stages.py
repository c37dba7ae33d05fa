"""Steps after locking: dependency policy, container references (4) and verification commands (7)."""

from __future__ import annotations

from dataclasses import replace

from bot.model import Section
from bot.pipeline.context import Context
from bot.pipeline.prefetch import Yanked
from bot.pipeline.progress import announced


async def run_stages(ctx: Context, *, yanked: Yanked) -> None:
    """Policy, containers and verification; `yanked` is the index's yank data for the request (asked
    while uv locked). aiohttp is imported only when a container rule needs a registry."""
    _policy(ctx)
    _warn_yanked(ctx, yanked)
    if ctx.config.containers:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            await _containers(ctx, session)
    else:
        # Without rules nothing is proposed or checked, so no registry is asked.
        await _containers(ctx, None)
    await _verify(ctx)


def _policy(ctx: Context) -> None:
    """The dependency policy on the new locks; a pair they break sits at the variant's pin of the
    required package, else at its entry in the variant's lock."""
    from bot.pipeline.blockers import locate
    from bot.pipeline.policy import check_policy

    manifests = ctx.all_manifests()
    for item in check_policy(ctx.config, manifests, ctx.new_locks):
        variant = next((v.name for v in ctx.variants if v.lock == item.file), None)
        if item.kind == "policy" and variant is not None:
            file, line = locate(ctx, variant, item.subject)
            item = replace(item, file=file, line=line)
        ctx.unresolved.append(item)


def _warn_yanked(ctx: Context, yanked: Yanked) -> None:
    """Yanked requested versions are warned about, from the index each baseline lock names."""
    from bot.pipeline.policy import check_request

    if any(yanked.values()):
        baseline = {name: lock.versions() for name, lock in ctx.baseline.items()}
        known = {w.message for w in ctx.warnings}
        ctx.warnings += [
            w for w in check_request(ctx.request, baseline, yanked=yanked) if w.message not in known
        ]


async def _containers(ctx: Context, session: object | None) -> None:
    """Step 4; without a session (a repository that locks offline) no registry is asked."""
    from bot.containers.container_step import update_containers

    if not ctx.trusted:
        # A fork's configuration must not make the bot contact hosts it names.
        ctx.sections["containers"] = Section("not run", "pull requests from forks do not update containers")
        return
    registry = None
    if session is not None:
        from bot.containers.registry import RegistryClient

        registry = RegistryClient(
            session=session,  # type: ignore[arg-type]
            observe=ctx.observer.registry_check,
        )
    outcome = await update_containers(
        ctx.repo, ctx.config, ctx.changes, ctx.request, registry=registry, write=ctx.files.write
    )
    ctx.containers = outcome.changes
    ctx.unresolved += outcome.unresolved
    ctx.snapshot(outcome.commit_message(), list(outcome.files))
    ctx.sections["containers"] = Section("done")


async def _verify(ctx: Context) -> None:
    from bot.pipeline.verify import run_verify, verify_unresolved

    if not ctx.config.verify:
        ctx.sections["verify"] = Section("done")
        return
    async with announced(ctx.progress, "verify"):
        ctx.verify = await run_verify(
            ctx.repo, ctx.config, ctx.locked, environ=ctx.environ, trusted=ctx.trusted,
            isolation=ctx.isolation, extras=ctx.extras,
        )  # fmt: skip
    ctx.unresolved += verify_unresolved(ctx.verify, ctx.config)
    ctx.sections["verify"] = Section("done")
