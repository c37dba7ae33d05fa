"""`upgrade-deps fix PKG==OLD..NEW ...`: the mechanical fixes and the re-audit alone, on a work tree."""

from __future__ import annotations

import asyncio
import sys
from argparse import Namespace
from pathlib import Path

from bot.audit.audit_command import audit_command, parse_change
from bot.audit.messages import audit_text
from bot.errors import RefusedError, UpgradeDepsError
from bot.files import repofiles
from bot.files.config import Config, load_config
from bot.files.transaction import FileTransaction
from bot.fix.api_fix import api_fix
from bot.fix.compat_fix import compat_fix
from bot.model import AuditReport, FixResult
from bot.settings import default_cache_dir, local_environ
from bot.text.render import render_trimmed


def apply_fixes(repo: Path, config: Config, report: AuditReport, files: FileTransaction) -> list[FixResult]:
    """Every enabled fix of every audited package, written into the work tree (through `files`)."""
    fixers = [f for on, f in ((config.fix_compat, compat_fix), (config.fix.api, api_fix)) if on]
    fixes = []
    for audit in (a for a in report.packages if a.error is None):
        for fixer in fixers:
            result, edits = fixer(config, audit, read=lambda path: repofiles.read_text(repo, path))
            if result is not None:
                for path, text in edits.changed().items():
                    files.write(path, text)
                fixes.append(result)
    return fixes


async def fix_command(
    repo: Path, config: Config, changes: list[str], *, cache_dir: Path
) -> tuple[list[FixResult], AuditReport]:
    """Audit, fix, and audit the fixed tree again; on any failure the files are as they were."""
    wanted = [parse_change(text) for text in changes]
    report = await audit_command(repo, config, wanted, cache_dir=cache_dir)
    files = FileTransaction(repo)
    try:
        fixes = apply_fixes(repo, config, report, files)
        if fixes:
            report = await audit_command(repo, config, wanted, cache_dir=cache_dir)
    except BaseException:
        files.restore()
        raise
    return fixes, report


def main(args: Namespace) -> int:
    """Exit 0 when no error finding remains, 1 when one does, 2 when the request is refused."""
    repo = Path(args.repo).resolve()
    cache_dir = Path(getattr(args, "cache_dir", None) or default_cache_dir(local_environ()))
    try:
        config = load_config(repo, Path(args.config) if args.config else None)
        fixes, report = asyncio.run(fix_command(repo, config, list(args.changes), cache_dir=cache_dir))
    except RefusedError as exc:
        print(f"upgrade-deps fix: {exc}", file=sys.stderr)
        return 2
    except UpgradeDepsError as exc:
        print(f"upgrade-deps fix: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(render_trimmed("fix-report.txt.j2", fixes=fixes))
    sys.stdout.write(audit_text(report))
    if any(p.error for p in report.packages):
        return 2
    return 1 if report.has_errors else 0
