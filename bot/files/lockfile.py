"""Reads uv.lock files (pure): every package with all its versions, and the root project's direct deps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rtoml
from packaging.utils import canonicalize_name

from bot.errors import LockFileError
from bot.files import repofiles
from bot.model import LockedPackage

# Sources that are the repository itself, not a dependency.
_LOCAL_SOURCES = ("virtual", "editable", "directory")


@dataclass(frozen=True)
class Lock:
    """A parsed lock file: packages by canonical name (several entries when markers split versions)."""

    path: str
    packages: Mapping[str, tuple[LockedPackage, ...]]
    roots: frozenset[str]  # the repository's own projects (virtual/editable sources)

    def versions(self) -> dict[str, tuple[str, ...]]:
        """{package: sorted distinct versions}, the repository's own projects excluded."""
        return {
            name: tuple(sorted({entry.version for entry in entries}))
            for name, entries in self.packages.items()
            if name not in self.roots
        }


def _source(entry: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    source = entry.get("source", {})
    return tuple((str(k), str(v)) for k, v in source.items()) if isinstance(source, Mapping) else ()


def _artifact(item: Mapping[str, Any]) -> tuple[str, str]:
    return str(item.get("url") or item.get("path") or item.get("filename") or ""), str(item.get("hash", ""))


def parse_lock(text: str, *, display: str) -> Lock:
    """Parse lock text; raise LockFileError naming `display` when it is not a uv lock."""
    try:
        data = rtoml.loads(text)
    except rtoml.TomlParsingError as exc:
        raise LockFileError(f"{display}: corrupt lock file, not valid TOML ({exc})") from None
    if "version" not in data or not isinstance(data.get("package", []), list):
        raise LockFileError(f"{display}: not a uv lock file (no 'version' key or no [[package]] array)")
    packages: dict[str, list[LockedPackage]] = {}
    roots: set[str] = set()
    for index, entry in enumerate(data.get("package", []), 1):
        if not isinstance(entry, Mapping) or "name" not in entry:
            raise LockFileError(f"{display}: [[package]] #{index} has no name")
        name = canonicalize_name(str(entry["name"]))
        source = _source(entry)
        if any(kind in _LOCAL_SOURCES for kind, _ in source):
            roots.add(name)
        if "version" not in entry and name not in roots:
            raise LockFileError(f"{display}: [[package]] {name!r} has no version")
        sdist = entry.get("sdist")
        packages.setdefault(name, []).append(
            LockedPackage(
                name=name,
                version=str(entry.get("version", "")),
                source=source,
                wheels=tuple(_artifact(w) for w in entry.get("wheels", []) if isinstance(w, Mapping)),
                sdist=_artifact(sdist) if isinstance(sdist, Mapping) else None,
            )
        )
    return Lock(
        path=display,
        packages={name: tuple(entries) for name, entries in packages.items()},
        roots=frozenset(roots),
    )


def read_lock(repo: Path, relative: str) -> Lock:
    """Read and parse `relative` under `repo`; missing or unreadable is a LockFileError."""
    try:
        text = repofiles.read_text(repo, relative)
    except FileNotFoundError:
        raise LockFileError(f"{relative}: lock file missing (run `uv lock` and commit it first)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LockFileError(f"{relative}: cannot read lock file ({exc})") from None
    return parse_lock(text, display=relative)
