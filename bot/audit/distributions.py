"""Finds, verifies, caches and unpacks the distribution a lock file records for a package version."""

from __future__ import annotations

import ast
import asyncio
import hashlib
import os
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

from bot.audit.fetch import redact_url
from bot.errors import ToolError
from bot.model import LockedPackage

# Only these files matter to a static audit; skipping binaries keeps big wheels cheap to unpack.
_KEEP = (".py", ".pyi")
# Compiled modules cannot be read statically; an empty placeholder records that they exist, so the
# API model says "unknown" for their names instead of "removed".
NATIVE = (".so", ".pyd")
Fetch = Callable[[str, Path], Awaitable[None]]  # download URL into a file


@dataclass(frozen=True)
class Unpacked:
    """One distribution's Python sources on disk."""

    name: str
    version: str
    digest: str  # sha256 hex of the archive
    root: Path  # the directory to put on griffe's search path
    top_level: tuple[str, ...]  # importable top-level names it ships


def pick_artifact(package: LockedPackage) -> tuple[str, str]:
    """The (location, hash) to audit: a pure wheel, else any wheel, else the sdist."""
    wheels = list(package.wheels)
    pure = [w for w in wheels if w[0].endswith("-none-any.whl")]
    if pure or wheels:
        return (pure or wheels)[0]
    if package.sdist is not None and package.sdist[0]:
        return package.sdist
    raise ToolError(f"{package.name} {package.version}: the lock file records no wheel and no sdist")


def _location(repo: Path, package: LockedPackage, location: str) -> str | Path:
    """A URL to download, or a local file for find-links registries and path sources."""
    parsed = urlparse(location)
    if parsed.scheme in ("http", "https"):
        return location
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    registry = dict(package.source).get("registry") or dict(package.source).get("path") or ""
    base = repo / registry if registry and "://" not in registry else repo
    candidate = base / location
    if not candidate.exists() and (repo / location).exists():
        candidate = repo / location
    return candidate


def _verify(archive: Path, expected: str, *, what: str) -> str:
    sha = hashlib.sha256()
    with archive.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    digest = sha.hexdigest()
    if expected:
        algorithm, _, value = expected.partition(":")
        if algorithm != "sha256":
            raise ToolError(f"{what}: unsupported hash algorithm {algorithm!r} in the lock file")
        if value.lower() != digest:
            raise ToolError(f"{what}: sha256 mismatch (lock records {value}, file has {digest})")
    return digest


def _member_path(name: str, *, sdist: bool) -> PurePosixPath | None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not name.endswith(_KEEP + NATIVE):
        return None
    if sdist:  # drop the "name-version/" directory every sdist starts with
        path = PurePosixPath(*path.parts[1:]) if len(path.parts) > 1 else path
        if path.parts and path.parts[0] == "src":
            path = PurePosixPath(*path.parts[1:])
    return path if path.parts else None


def _unpack(archive_path: Path, filename: str, target: Path) -> None:
    sdist = not filename.endswith(".whl")
    if not sdist or filename.endswith(".zip"):
        with zipfile.ZipFile(archive_path) as archive:
            for info in archive.infolist():
                path = _member_path(info.filename, sdist=sdist)
                if path is not None and not info.is_dir():
                    out = target.joinpath(*path.parts)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(b"" if path.suffix in NATIVE else archive.read(info))
        return
    with tarfile.open(archive_path, mode="r:*") as archive:
        for member in archive.getmembers():
            path = _member_path(member.name, sdist=True)
            if path is None or not member.isfile():
                continue
            handle = archive.extractfile(member)
            if handle is not None:
                out = target.joinpath(*path.parts)
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(b"" if path.suffix in NATIVE else handle.read())


def _marker_only(init: Path) -> bool:
    """An `__init__` that only marks a namespace: empty, a docstring, pkgutil or pkg_resources boilerplate."""
    try:
        tree = ast.parse(init.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return False
    marks = ("extend_path", "declare_namespace", "pkgutil", "pkg_resources")
    return all(
        (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
        or any(mark in ast.unparse(stmt) for mark in marks)
        for stmt in tree.body
    )


def _single_subpackage(path: Path) -> Path | None:
    """The one sub-package of a package whose `__init__` only marks a namespace and which holds no
    module of its own (old-style namespaces: `megatron/__init__.py` beside `megatron/core/`)."""
    init = path / "__init__.py"
    if not init.is_file() or not _marker_only(init):
        return None
    if any(
        p.suffix in (".py", ".pyi") and p.name not in ("__init__.py", "__init__.pyi") for p in path.iterdir()
    ):
        return None
    children = [c for c in path.iterdir() if c.is_dir() and c.name.isidentifier() and any(c.rglob("*.py*"))]
    return children[0] if len(children) == 1 else None


def top_level_names(root: Path) -> tuple[str, ...]:
    """Importable roots of an unpacked distribution: the deepest packages all its modules share.

    A namespace package (no `__init__`, like megatron/ in megatron-core, or one whose `__init__` only
    marks the namespace) stands for the packages inside it (megatron.core), so two distributions
    sharing the namespace are told apart.
    """
    names: set[str] = set()
    for path in root.iterdir():
        if path.is_dir() and path.name.isidentifier() and any(path.rglob("*.py*")):
            inner = _single_subpackage(path)
            if inner is not None:
                names.update(
                    f"{path.name}.{n}" for n in top_level_names(path) if n.split(".")[0] == inner.name
                )
            elif any((path / f"__init__.{ext}").is_file() for ext in ("py", "pyi")):
                names.add(path.name)
            else:
                names.update(f"{path.name}.{n}" for n in top_level_names(path))
        elif path.suffix == ".py" and path.stem.isidentifier():
            names.add(path.stem)
    return tuple(sorted(names - {"setup", "conftest", "noxfile"}))  # sdist build files are not the package


async def _unpack_into(archive: Path, filename: str, cached: Path) -> None:
    """Unpack into a private directory renamed into place: concurrent jobs never see half a tree."""
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{cached.name}-", dir=cached.parent))
    try:
        await asyncio.to_thread(_unpack, archive, filename, partial)
        await asyncio.to_thread(_put_in_place, partial, cached)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _put_in_place(partial: Path, cached: Path) -> None:
    """Mark the unpacked tree complete and rename it to `cached` (a tree to remove first can be large)."""
    (partial / ".complete").touch()
    if cached.exists() and not (cached / ".complete").exists():
        shutil.rmtree(cached, ignore_errors=True)  # left by an interrupted run
    try:
        partial.rename(cached)
    except OSError:  # another job finished the same archive first; its copy is as good
        if not (cached / ".complete").exists():
            raise


async def unpack_distribution(
    repo: Path, package: LockedPackage, *, cache_dir: Path, fetch: Fetch | None = None
) -> Unpacked:
    """The Python sources of `package`, from the cache or unpacked once from its archive.

    The cache key is name, version and the archive's sha256, so a re-published file never
    reuses stale sources. Local archives (find-links directories) are hashed as read.
    """
    location, expected = pick_artifact(package)
    what = f"{package.name} {package.version}"
    if expected.startswith("sha256:"):
        cached = cache_dir / "dist" / f"{package.name}-{package.version}-{expected[7:23]}"
        if (cached / ".complete").exists():
            return Unpacked(package.name, package.version, expected[7:], cached, top_level_names(cached))
    source = _location(repo, package, location)
    if not isinstance(source, Path) and fetch is None:
        raise ToolError(f"{what}: {redact_url(location)} must be downloaded and no downloader was given")
    downloads = cache_dir / "downloads"
    try:
        if isinstance(source, Path):
            archive = source
        else:
            # Streamed to disk, never held in memory: some wheels (torch, vllm) are hundreds of MB.
            downloads.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=f"{package.name}-", dir=downloads)
            os.close(handle)
            archive = Path(name)
            assert fetch is not None  # noqa: S101 - refused above when a download has no fetcher
            await fetch(source, archive)
        digest = await asyncio.to_thread(_verify, archive, expected, what=what)
        cached = cache_dir / "dist" / f"{package.name}-{package.version}-{digest[:16]}"
        if not (cached / ".complete").exists():
            await _unpack_into(archive, PurePosixPath(urlparse(str(location)).path).name, cached)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise ToolError(f"{what}: the archive is damaged ({type(exc).__name__})") from None
    except OSError as exc:
        where = source.name if isinstance(source, Path) else "the audit cache"
        raise ToolError(f"{what}: cannot read or unpack {where} ({exc.strerror or exc})") from None
    finally:
        if not isinstance(source, Path) and "archive" in locals():
            archive.unlink(missing_ok=True)
    return Unpacked(package.name, package.version, digest, cached, top_level_names(cached))
