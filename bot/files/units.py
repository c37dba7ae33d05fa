"""Finds the repository's lock units: root variants, uv workspaces with their members, locked subprojects."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from bot.errors import ConfigError, ManifestError
from bot.files import repofiles
from bot.files.config import CONFIG_PATH, Config
from bot.files.tomlfile import parse_toml
from bot.model import Variant

# Directories no project of the repository lives in: tool caches, environments, vendored trees.
_PRUNED = frozenset({"node_modules", "__pycache__", "site-packages", "venv"})


class _Documents:
    """Each manifest's tables, parsed once per discovery (a manifest is read for its members, then
    for its path sources) with tomllib: discovery only reads them, and every run pays for it, where
    tomlkit, which keeps formatting for the rewrite, takes some 20 times longer on a large manifest."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self._parsed: dict[str, Mapping[str, Any]] = {}

    def __call__(self, manifest: str) -> Mapping[str, Any]:
        if manifest not in self._parsed:
            self._parsed[manifest] = self._read(manifest)
        return self._parsed[manifest]

    def _read(self, manifest: str) -> Mapping[str, Any]:
        if not repofiles.is_file(self.repo, manifest):
            raise ManifestError(f"{manifest}: manifest not found")
        try:
            text = repofiles.read_text(self.repo, manifest)
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            parse_toml(text, display=manifest, error=ManifestError)  # the usual message: file:line:col
            raise ManifestError(f"{manifest}: invalid TOML: {exc}") from None
        except UnicodeDecodeError as exc:
            raise ManifestError(f"{manifest}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _strings(value: object, *, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ManifestError(f"{where}: expected a list of strings")
    return list(value)


def _globbed(repo: Path, folder: PurePosixPath, pattern: str, *, where: str) -> set[str]:
    """Directories (root-relative) a workspace glob matches; a pattern leaving the repository is refused."""
    if PurePosixPath(pattern).is_absolute() or ".." in PurePosixPath(pattern).parts:
        raise ManifestError(f"{where}: {pattern!r} points outside the workspace")
    base = repo / folder
    inside = repo.resolve()
    found = set()
    for match in base.glob(pattern):
        relative = match.relative_to(repo)
        if any(part.startswith(".") for part in relative.parts) or not match.is_dir():
            continue  # uv skips hidden directories and files the glob happens to match
        if not match.resolve().is_relative_to(inside):
            raise ManifestError(f"{where}: {pattern!r} matches {relative.as_posix()}, outside the repository")
        found.add(relative.as_posix())
    return found


def workspace_members(docs: _Documents, manifest: str) -> tuple[str, ...]:
    """The member manifests of the workspace `manifest` roots, by uv's rules: every directory the
    `members` globs match that holds a `pyproject.toml`, less those the `exclude` globs match."""
    repo, doc = docs.repo, docs(manifest)
    workspace = doc.get("tool", {}).get("uv", {}).get("workspace")
    if workspace is None:
        return ()
    where = f"{manifest} [tool.uv.workspace]"
    if not isinstance(workspace, Mapping):
        raise ManifestError(f"{where}: expected a table")
    folder = PurePosixPath(manifest).parent
    members: set[str] = set()
    for pattern in _strings(workspace.get("members"), where=f"{where} members"):
        members |= _globbed(repo, folder, pattern, where=f"{where} members")
    for pattern in _strings(workspace.get("exclude"), where=f"{where} exclude"):
        members -= _globbed(repo, folder, pattern, where=f"{where} exclude")
    own = str(folder) if str(folder) != "." else ""
    manifests = (str(PurePosixPath(member) / "pyproject.toml") for member in sorted(members) if member != own)
    return tuple(path for path in manifests if repofiles.is_file(repo, path))


def _projects(repo: Path) -> Iterator[tuple[str, bool]]:
    """Directories below the root that hold a `pyproject.toml`, in path order, and whether they
    also hold a `uv.lock`."""
    for folder, dirs, files in os.walk(repo):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _PRUNED)
        relative = Path(folder).relative_to(repo).as_posix()
        if relative != "." and "pyproject.toml" in files:
            yield relative, "uv.lock" in files


def _held(units: Sequence[Variant]) -> set[str]:
    return {PurePosixPath(path).parent.as_posix() for unit in units for path in unit.manifests}


def unlocked_projects(repo: Path, units: Sequence[Variant]) -> tuple[str, ...]:
    """Project directories no unit holds (no `uv.lock` of their own, no workspace's member): their
    pins are nobody's to move, which the explanation of discovery says."""
    held = _held(units)
    return tuple(folder for folder, locked in _projects(repo) if folder not in held)


def _root_variants(repo: Path) -> list[Variant]:
    found: list[Variant] = []
    if repofiles.is_file(repo, "pyproject.toml"):
        found.append(Variant("default", "pyproject.toml", "uv.lock"))
    for manifest in sorted(repo.glob("pyproject.*.toml")):
        name = manifest.name[len("pyproject.") : -len(".toml")]
        if name and (repo / f"uv.{name}.lock").exists():
            found.append(Variant(name, manifest.name, f"uv.{name}.lock"))
    return found


def _with_members(docs: _Documents, units: Sequence[Variant]) -> list[Variant]:
    return [replace(unit, members=workspace_members(docs, unit.manifest)) for unit in units]


def discover_units(repo: Path, config: Config) -> tuple[Variant, ...]:
    """The configured units, else the root's variants, then every locked project that no unit's
    workspace already holds; each with its workspace members and the units it locks after."""
    docs = _Documents(repo)
    if config.variants is not None:
        units = _with_members(docs, config.variants)
    else:
        units = _with_members(docs, _root_variants(repo))
        for folder, locked in _projects(repo):
            # A member's own lock is not its lock: uv locks it at its workspace's root.
            if not locked or folder in _held(units):
                continue
            units += _with_members(docs, [Variant(folder, f"{folder}/pyproject.toml", f"{folder}/uv.lock")])
    if not units:
        raise ConfigError(
            f"{repo.name or repo}: no pyproject.toml and no variants configured in {CONFIG_PATH}"
        )
    return tuple(_ordered(docs, units))


def _path_sources(docs: _Documents, manifest: str) -> Iterator[str]:
    """Root-relative directories `manifest`'s `[tool.uv.sources]` name by `path`."""
    sources = docs(manifest).get("tool", {}).get("uv", {}).get("sources", {})
    folder = PurePosixPath(manifest).parent
    for value in sources.values() if isinstance(sources, Mapping) else ():
        for entry in value if isinstance(value, list) else [value]:
            path = entry.get("path") if isinstance(entry, Mapping) else None
            if isinstance(path, str):
                yield os.path.normpath(folder / path).replace(os.sep, "/")


def _ordered(docs: _Documents, units: list[Variant]) -> list[Variant]:
    """Each unit with the units it reaches by path, and every unit after those it reaches."""
    homes = {
        PurePosixPath(path).parent.as_posix(): unit.name
        for unit in reversed(units)  # a root variant's directory belongs to the first unit there
        for path in unit.manifests
    }
    reached: dict[str, tuple[str, ...]] = {}
    for unit in units:
        names = [homes.get(path) for m in unit.manifests for path in _path_sources(docs, m)]
        own = PurePosixPath(unit.manifest).parent.as_posix()
        reached[unit.name] = tuple(
            dict.fromkeys(n for n in names if n and n != unit.name and homes[own] != n)
        )
    units = [replace(unit, after=reached[unit.name]) for unit in units]
    return in_lock_order(units, [unit.name for unit in units])


def in_lock_order(units: Sequence[Variant], chosen: Sequence[str]) -> list[Variant]:
    """The `chosen` units and every unit that reaches one of them by path (its lock holds the other's
    requirements, so it is locked again), each after the units it reaches: a stable topological order."""
    wanted = set(chosen)
    grew = True
    while grew:
        more = {u.name for u in units if u.name not in wanted and wanted & set(u.after)}
        grew = bool(more)
        wanted |= more
    done: list[Variant] = []
    pending = [u for u in units if u.name in wanted]
    while pending:
        ready = [u for u in pending if all(a in {d.name for d in done} or a not in wanted for a in u.after)]
        if not ready:  # a cycle of path dependencies: uv reports it; lock in the order found
            ready = pending[:1]
        done.append(ready[0])
        pending.remove(ready[0])
    return done
