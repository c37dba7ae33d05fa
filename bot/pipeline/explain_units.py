"""`upgrade-deps run --explain`: which lock units discovery found, and why, before anything runs."""

from __future__ import annotations

from pathlib import Path

from bot.files.config import load_config
from bot.files.units import discover_units, unlocked_projects
from bot.model import Variant
from bot.text.render import render


def _why(unit: Variant, *, configured: str | None) -> str:
    if configured:
        return f"configured in {configured}"
    if "/" not in unit.manifest:
        return "the root's manifest" if unit.manifest == "pyproject.toml" else "a variant at the root"
    return "a project with its own uv.lock"


def explain_units(repo: Path, config_path: Path | None = None) -> str:
    """The units, each with why it is one, its manifests (members by the workspace's globs), its lock
    and the units it is locked after; then the projects no unit holds."""
    config = load_config(repo, config_path)
    units = discover_units(repo, config)
    configured = config.source if config.variants is not None else None
    rows = [(unit, _why(unit, configured=configured)) for unit in units]
    return render("units-explain.txt.j2", rows=rows, unlocked=unlocked_projects(repo, units))
