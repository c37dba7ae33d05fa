"""`upgrade-deps run`: the pipeline on a local checkout, writing upgrade-summary.md and printing it."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import OUTCOMES, BadArgumentsError, RefusedError, UpgradeDepsError
from bot.settings import local_environ

if TYPE_CHECKING:
    from bot.model import UpgradeResult


def _warm_imports() -> None:
    """Import what the last steps need while the first ones wait on uv (start-up counts)."""
    import bot.audit.runner  # noqa: F401
    from bot.text.render import environment

    environment().get_template("upgrade-summary.md.j2")


def _locate(given: Path | None, environ: Mapping[str, str]) -> Path:
    """The top level to upgrade: `--repo` exactly, or the one the current directory is in.

    Refused here, before the pipeline, no summary is written: there is no repository to put it in.
    """
    from bot.tools.gitrepo import checkout
    from bot.tools.proc import child_env

    path = (given or Path.cwd()).resolve()
    if not path.is_dir():
        raise RefusedError(f"--repo {given}: not a directory")
    tree = asyncio.run(checkout(path, env=child_env(environ), exact=given is not None))
    return tree.top.resolve()


def main(args: argparse.Namespace) -> int:
    environ = local_environ()
    try:
        repo = _locate(args.repo, environ)
    except RefusedError as exc:
        print(f"upgrade-deps: {exc}", file=sys.stderr)
        return OUTCOMES["refused"].exit_code
    if args.explain:
        return _explain(repo, args.config)

    from bot.pipeline.context import RunOptions, Runtime
    from bot.pipeline.request import parse_request
    from bot.pipeline.upgrade import refused_words, run_upgrade
    from bot.tools.isolation_host import local_isolation
    from bot.tools.public_releases import PublicReleases

    warming: list[threading.Thread] = []

    async def progress(step: str) -> None:
        print(f"upgrade-deps: {step}", file=sys.stderr)
        if step.startswith("lock") and not warming:
            # uv is about to run: the interpreter is idle, so the imports cost no wall time there.
            warming.append(threading.Thread(target=_warm_imports, daemon=True, name="warm-imports"))
            warming[0].start()

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
        options = RunOptions(
            config_path=args.config, commit=not args.no_commit, release_notes=notes, fix=not args.no_fix
        )
        return await run_upgrade(repo, request, runtime=runtime, options=options, progress=progress)

    try:
        result = asyncio.run(upgrade())
    except KeyboardInterrupt:
        print("upgrade-deps: interrupted; every file was restored", file=sys.stderr)
        return 130
    return _report(result, repo=repo, output_format=args.format)


def _explain(repo: Path, config: Path | None) -> int:
    from bot.pipeline.explain_units import explain_units

    try:
        print(explain_units(repo, config), end="")
    except UpgradeDepsError as exc:
        print(f"upgrade-deps: {exc}", file=sys.stderr)
        return OUTCOMES[exc.kind].exit_code
    return 0


def _report(result: UpgradeResult, *, repo: Path, output_format: str) -> int:
    """Write the summary into the repository, print it (or the JSON result), and give the exit code."""
    from bot.files import repofiles
    from bot.pipeline.summary import render_summary
    from bot.pipeline.upgrade import SUMMARY

    summary = render_summary(result)
    try:
        repofiles.write_text(repo, SUMMARY, summary)
    except UpgradeDepsError as exc:
        print(f"upgrade-deps: {exc}", file=sys.stderr)
    if output_format == "json":
        from bot.pipeline.result_json import result_document

        print(json.dumps(result_document(result, summary=SUMMARY), indent=2))
    else:
        print(summary)
    if result.error:
        print(f"upgrade-deps: {result.error}", file=sys.stderr)
    return OUTCOMES[result.outcome].exit_code
