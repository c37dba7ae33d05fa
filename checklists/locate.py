"""Where a package's checklist lives and which import names it stands for."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bot.files.config import Config

DEFAULT_DIRS = (".github/upgrade-deps/checklists", ".agents/skills/upgrade-deps/checklists")


def checklist_dir(repo: Path, config: Config) -> str:
    """The configured directory, else the first default that exists, else the first default."""
    if config.checklists.dir:
        return config.checklists.dir.strip("/")
    return next((d for d in DEFAULT_DIRS if (repo / d).is_dir()), DEFAULT_DIRS[0])


def checklist_path(repo: Path, config: Config, package: str) -> str:
    """Repository-relative path of `package`'s checklist (the config may name it)."""
    configured = config.packages.get(package)
    if configured is not None and configured.checklist:
        return configured.checklist
    return f"{checklist_dir(repo, config)}/{package}.md"


def import_names(
    package: str,
    config: Config,
    *,
    checklist: tuple[str, ...] = (),
    distribution: Mapping[str, tuple[str, ...]] | None = None,
) -> tuple[str, ...]:
    """Config first, then the checklist's `imports`, then the distribution's top-level modules."""
    configured = config.packages.get(package)
    if configured is not None and configured.imports:
        return configured.imports
    if checklist:
        return checklist
    if distribution and distribution.get(package):
        return distribution[package]
    return (package.replace("-", "_").replace(".", "_"),)
