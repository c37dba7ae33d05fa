"""Runs the upgrade steps on a local checkout and returns an UpgradeResult (knows nothing of GitHub)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from bot.errors import ManifestError, UpgradeDepsError
from bot.files import repofiles, siblings
from bot.files.config import Config, load_config
from bot.files.lockfile import read_lock
from bot.files.manifest import Manifest
from bot.files.manifest_paths import outside_paths
from bot.files.transaction import FileTransaction
from bot.files.units import discover_units
from bot.model import Commit, Request, Section, UpgradeResult, Variant
from bot.pipeline import api_steps, release_notes
from bot.pipeline.context import Context, Progress, RunOptions, Runtime
from bot.pipeline.locking import lock_all
from bot.pipeline.pins import plan_and_pin
from bot.pipeline.prefetch import DuringLock
from bot.pipeline.progress import announced
from bot.pipeline.stages import run_stages
from bot.pipeline.static_audit import audit_lock_changes
from bot.settings import default_cache_dir
from bot.tools import gitrepo
from bot.tools.proc import child_env
from bot.tools.uv import SWAP_DIR, Locker, restore_swap

SUMMARY = "upgrade-summary.md"
# Outcomes after which the changes stay (and are committed); any other ending restores every file.
KEEP = ("landed", "attention", "breaking")
DEFAULT_OPTIONS = RunOptions()


async def _quiet(_: str) -> None:
    return None


def _today() -> str:
    """The summary's date: the day it is where the run happens (the local time zone, said explicitly)."""
    return datetime.datetime.now().astimezone().date().isoformat()


async def run_upgrade(
    repo: Path,
    request: Request,
    *,
    runtime: Runtime,
    options: RunOptions = DEFAULT_OPTIONS,
    progress: Progress | None = None,
) -> UpgradeResult:
    """Upgrade `repo` as `request` asks. On refusal or failure every tracked file is as it was."""
    files = FileTransaction(repo)
    try:
        ctx = await _prepare(repo, request, files, runtime=runtime, options=options,
                             progress=progress or _quiet)  # fmt: skip
        if runtime.isolation.mode == "refused" and options.static_base is not None:
            return await _static(ctx, options.static_base)
        result = await _run_steps(ctx)
    except UpgradeDepsError as exc:
        files.restore()
        return UpgradeResult(request=request, outcome=exc.kind, date=_today(), error=str(exc))
    except BaseException:
        files.restore()
        raise
    if result.outcome not in KEEP:
        files.restore()
        return result
    if options.commit:
        try:
            async with announced(ctx.progress, "commit"):
                result = replace(result, commits=await _commit(ctx))
        except UpgradeDepsError as exc:
            files.restore()
            return replace(result, outcome=exc.kind, error=str(exc))
    return result


def refused_words(words: Sequence[str], error: UpgradeDepsError) -> UpgradeResult:
    """The result for command words that are no request: nothing was read or changed."""
    return UpgradeResult(
        request=Request((), " ".join(words)), outcome=error.kind, date=_today(), error=str(error)
    )


async def _prepare(
    repo: Path, request: Request, files: FileTransaction, *, runtime: Runtime, options: RunOptions,
    progress: Progress,
) -> Context:  # fmt: skip
    env = child_env(runtime.environ)
    git_dir = await gitrepo.git_dir(repo, env=env)
    # A run killed in the middle of a swap left the originals here: put them back first, and remove
    # the copies beside the repository it locked other variants in.
    restore_swap(repo, git_dir / SWAP_DIR)
    siblings.remove_stale(repo)
    await gitrepo.ensure_clean(repo, env=env, ignore=(SUMMARY,))
    config = load_config(repo, options.config_path)
    variants = discover_units(repo, config)
    manifests = _manifests(repo, variants)
    members = _members(repo, variants)
    baseline = {variant.name: read_lock(repo, variant.lock) for variant in variants}
    extras = outside_paths(repo, {**manifests, **members})
    locker = Locker(repo, env=env, timeout=runtime.uv_timeout, git_dir=git_dir, isolation=runtime.isolation,
                    extras=extras)  # fmt: skip
    return Context(
        repo=repo,
        request=request,
        config=config,
        variants=variants,
        manifests=manifests,
        baseline=baseline,
        focused=_focused(config, {**manifests, **members}),
        locker=locker,
        files=files,
        progress=progress,
        environ=runtime.environ,
        trusted=options.trusted,
        cache_dir=runtime.cache_dir or default_cache_dir(runtime.environ),
        isolation=runtime.isolation,
        extras=extras,
        fix_mode=config.fix.mode if options.fix else "off",
        observer=runtime.observer,
        notes_source=options.release_notes,
        originals={name: manifest.text for name, manifest in manifests.items()},
        members=members,
    )


def _manifests(repo: Path, variants: Sequence[Variant]) -> dict[str, Manifest]:
    manifests = {}
    for variant in variants:
        if not repofiles.is_file(repo, variant.manifest):
            raise ManifestError(f"{variant.manifest}: manifest of variant {variant.name!r} not found")
        text = repofiles.read_text(repo, variant.manifest)
        manifests[variant.name] = Manifest(text, display=variant.manifest)
    return manifests


def _members(repo: Path, variants: Sequence[Variant]) -> dict[str, Manifest]:
    """Workspace members' manifests that are not a unit's own manifest, by path."""
    own = {variant.manifest for variant in variants}
    paths = dict.fromkeys(path for variant in variants for path in variant.members if path not in own)
    return {path: Manifest(repofiles.read_text(repo, path), display=path) for path in paths}


async def _static(ctx: Context, base: str) -> UpgradeResult:
    """No sandbox: nothing of the repository runs, but what its locks already changed is audited."""
    reason = ctx.isolation.refusal()
    await audit_lock_changes(ctx, base, reason=reason)
    return replace(ctx.result(outcome="refused", date=_today()), error=reason)


def _focused(config: Config, manifests: Mapping[str, Manifest]) -> frozenset[str]:
    """Configured packages, else every direct dependency of any variant."""
    if config.packages:
        return frozenset(config.packages)
    names: set[str] = set()
    for manifest in manifests.values():
        names |= manifest.direct_dependencies()
    return frozenset(names)


async def _run_steps(ctx: Context) -> UpgradeResult:
    # What needs no new lock runs while uv works instead of before or after it. The downgrade check
    # runs in plan_and_pin, before any edit.
    background = DuringLock(ctx)
    try:
        async with announced(ctx.progress, "pins"):
            targets = plan_and_pin(ctx)
        ctx.sections["pins"] = Section("done")
        locked = bool(targets) and await lock_all(ctx, targets)
    except BaseException:
        await background.cancel()
        raise
    landed = bool(targets) and locked and not any(item.blocking for item in ctx.unresolved)
    yanked, guards = await background.finish(landed=landed)
    if not targets:
        return ctx.result(outcome="nothing", date=_today())
    if not locked:
        return ctx.result(outcome="not-landed", date=_today())
    if any(item.blocking for item in ctx.unresolved):
        return ctx.result(outcome="not-landed", date=_today())
    await run_stages(ctx, yanked=yanked)
    await api_steps.audit(ctx, guards=guards)
    ctx.release_notes = await release_notes.step(ctx, ctx.notes_source)
    return ctx.result(outcome=_outcome(ctx), date=_today())


def _outcome(ctx: Context) -> str:
    if any(item.blocking for item in ctx.unresolved):
        return "not-landed"
    if not ctx.files.changed():
        return "nothing"
    if ctx.audit is not None and ctx.audit.has_errors:
        return "breaking"
    # Pin style alone never fails a check run: the upgrade is right either way.
    if any(item.kind != "pin-style" for item in ctx.unresolved):
        return "attention"
    return "landed"


async def _commit(ctx: Context) -> tuple[Commit, ...]:
    """One commit per step that changed files, replaying each step's snapshot in order."""
    # Git itself sees the whole environment, as when the user commits: their identity may be in it.
    env, repo = ctx.environ, ctx.repo
    final = {path: repofiles.read_bytes(repo, path) for path in ctx.files.changed()}
    commits = []
    async with gitrepo.all_or_none(repo, list(final), env=env):
        for snapshot in ctx.snapshots:
            for path, text in snapshot.files.items():
                repofiles.write_text(repo, path, text)
            made = await gitrepo.commit_files(repo, list(snapshot.files), snapshot.text(), env=env)
            if made:
                commits.append(made)
        for path, data in final.items():
            repofiles.write_bytes(repo, path, data)
        made = await gitrepo.commit_files(repo, list(final), "Record remaining upgrade changes", env=env,
                                          untracked=False)  # fmt: skip
    return (*commits, *([made] if made else []))
