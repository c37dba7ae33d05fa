"""`upgrade-deps checklists validate`: runs step 0.5 alone over every checklist and focused package."""

from __future__ import annotations

import json
import sys
from argparse import Namespace
from pathlib import Path

import yaml
from packaging.utils import canonicalize_name

from bot.errors import RefusedError
from bot.files.config import Config, load_config
from bot.model import ChecklistReport
from checklists.locate import checklist_dir
from checklists.report import render_text
from checklists.validate import validate_checklists


def packages_to_check(repo: Path, config: Config) -> list[str]:
    """Every configured focused package, and every package that has a checklist file."""
    names = dict.fromkeys(p.name for p in config.packages.values() if p.audit)
    directory = repo / checklist_dir(repo, config)
    for file in sorted(directory.glob("*.md")) if directory.is_dir() else ():
        if file.name.startswith("_"):
            continue
        package = file.stem
        try:
            text = file.read_text(encoding="utf-8")
            front = yaml.safe_load(text.split("---", 2)[1]) if text.startswith("---") else None
        except (OSError, UnicodeDecodeError, yaml.YAMLError, IndexError):
            front = None
        if isinstance(front, dict) and isinstance(front.get("package"), str):
            package = front["package"]
        names.setdefault(canonicalize_name(package))
    return list(names)


def failed(report: ChecklistReport) -> bool:
    """Error severity: structural problems remain, or discrepancies were found and not fixed."""
    return bool(report.problems) or (not report.fixed and not report.clean)


def as_json(report: ChecklistReport) -> dict[str, object]:
    """One checklist's object in `--format json`: the discrepancies, and the problems with the file itself."""
    return {
        "package": report.package,
        "path": report.path,
        "missing": list(report.missing),
        "stale": list(report.stale),
        "changed": list(report.changed),
        "problems": [{"file": p.file, "line": p.line, "message": p.message} for p in report.problems],
        "fixed": report.fixed,
    }


def main(args: Namespace) -> int:
    """Exit 0 when every checklist is (now) in order, 1 otherwise, 2 when refused."""
    repo = Path(args.repo).resolve()
    try:
        config = load_config(repo, Path(args.config) if args.config else None)
        reports = validate_checklists(repo, config, packages_to_check(repo, config), fix=bool(args.fix))
    except RefusedError as exc:
        print(f"upgrade-deps checklists: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps([as_json(r) for r in reports], indent=2))
    else:
        sys.stdout.write(render_text(reports))
    return 1 if any(failed(r) for r in reports) else 0
