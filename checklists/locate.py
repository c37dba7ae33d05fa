"""Where a package's checklist lives and which import names it stands for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.files.config import Config
from checklists.document import Checklist
from checklists.roots import inferred_roots

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


@dataclass(frozen=True)
class ImportNames:
    """The import names a package is looked for by, and where they come from (for messages)."""

    names: tuple[str, ...]
    source: str


def import_names(
    package: str,
    config: Config,
    *,
    checklist: Checklist | None = None,
    distribution: Mapping[str, tuple[str, ...]] | None = None,
) -> ImportNames:
    """Config first, then the checklist's `imports`, then the distribution's top-level modules, then
    the root the checklist's upstream paths and catalog point to, and only then the package's name."""
    configured = config.packages.get(package)
    if configured is not None and configured.imports:
        return ImportNames(configured.imports, f"[package.{package}].imports")
    if checklist is not None and checklist.imports:
        return ImportNames(checklist.imports, "the checklist's 'imports'")
    if distribution and distribution.get(package):
        return ImportNames(distribution[package], "the distribution's modules")
    inferred = inferred_roots(package, checklist)
    if inferred:
        return ImportNames(inferred, "the checklist's upstream paths and catalog")
    return ImportNames((package.replace("-", "_").replace(".", "_"),), "the package name")
