"""`upgrade-deps run`: the pipeline on a local checkout, writing upgrade-summary.md and printing it."""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import OUTCOMES, BadArgumentsError, UpgradeDepsError
from bot.settings import local_environ

if TYPE_CHECKING:
    from bot.model import UpgradeResult


def _warm_imports() -> None:
    """Import what the last steps need while the first ones wait on uv (start-up counts)."""
    import git  # noqa: F401

    import bot.audit.runner  # noqa: F401
    from bot.text.render import environment

    environment().get_template("upgrade-summary.md.j2")


def main(args: argparse.Namespace) -> int:
    repo: Path = args.repo.resolve()
    if not repo.is_dir():
        print(f"upgrade-deps: --repo {args.repo}: not a directory", file=sys.stderr)
        return OUTCOMES["refused"].exit_code

    from bot.files import repofiles
    from bot.pipeline.context import RunOptions, Runtime
    from bot.pipeline.request import parse_request
    from bot.pipeline.summary import render_summary
    from bot.pipeline.upgrade import SUMMARY, refused_words, run_upgrade
    from bot.tools.isolation_host import local_isolation
    from bot.tools.public_releases import PublicReleases

    warming: list[threading.Thread] = []

    async def progress(step: str) -> None:
        print(f"upgrade-deps: {step}", file=sys.stderr)
        if step.startswith("lock") and not warming:
            # uv is about to run: the interpreter is idle, so the imports cost no wall time there.
            warming.append(threading.Thread(target=_warm_imports, daemon=True, name="warm-imports"))
            warming[0].start()

    environ = local_environ()

    async def upgrade() -> UpgradeResult:
        isolation = await local_isolation(environ, policy=args.sandbox)
        if isolation.mode == "unsandboxed" and args.sandbox == "auto":
            print(f"upgrade-deps: warning: uv and verification commands run unsandboxed: "
                  f"{isolation.reason}; --sandbox=require refuses instead", file=sys.stderr)  # fmt: skip
        try:
            request = parse_request(args.args)
        except BadArgumentsError as exc:
            return refused_words(args.args, exc)
        runtime = Runtime(environ, isolation, uv_timeout=args.uv_timeout)
        # A laptop has no installation token: release bodies come from GitHub's public API, anonymously.
        notes = None if args.no_release_notes else PublicReleases()
        options = RunOptions(config_path=args.config, commit=not args.no_commit, release_notes=notes)
        return await run_upgrade(repo, request, runtime=runtime, options=options, progress=progress)

    try:
        result = asyncio.run(upgrade())
    except KeyboardInterrupt:
        print("upgrade-deps: interrupted; every file was restored", file=sys.stderr)
        return 130
    summary = render_summary(result)
    try:
        repofiles.write_text(repo, SUMMARY, summary)
    except UpgradeDepsError as exc:
        print(f"upgrade-deps: {exc}", file=sys.stderr)
    print(summary)
    if result.error:
        print(f"upgrade-deps: {result.error}", file=sys.stderr)
    return OUTCOMES[result.outcome].exit_code
