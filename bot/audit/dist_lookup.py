"""Finds a version's distribution for the audit command: in the locks, else in the repository's indexes."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from bot.audit.fetch import redact_url
from bot.errors import ManifestError, ToolError
from bot.files.lockfile import Lock
from bot.files.tomlfile import load_toml
from bot.model import LockedPackage

GetJson = Callable[[str], Awaitable[bytes]]
PYPI = "https://pypi.org/simple"


def _same(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def from_locks(locks: Sequence[Lock], package: str, version: str) -> LockedPackage | None:
    """The lock entry for exactly this version, if any lock holds it."""
    for lock in locks:
        for entry in lock.packages.get(package, ()):
            if _same(entry.version, version):
                return entry
    return None


def index_sources(
    repo: Path, locks: Sequence[Lock], package: str, *, manifests: Sequence[str] = ("pyproject.toml",)
) -> list[str]:
    """Registries to search, in order: the package's lock sources, then each manifest's `[tool.uv]`."""
    sources: list[str] = []
    for lock in locks:
        for entry in lock.packages.get(package, ()):
            registry = dict(entry.source).get("registry")
            if registry and registry not in sources:
                sources.append(registry)
    no_index = False
    for manifest in manifests:
        uv = _uv_settings(repo, manifest)
        no_index = no_index or bool(uv.get("no-index"))
        sources.extend(value for value in _uv_sources(uv) if value not in sources)
    if not no_index and PYPI not in sources:
        sources.append(PYPI)
    return sources


def _uv_settings(repo: Path, manifest: str) -> dict[str, Any]:
    """The manifest's `[tool.uv]` table; an unreadable manifest contributes nothing here."""
    if not (repo / manifest).is_file():
        return {}
    try:
        document = load_toml(repo / manifest, display=manifest, error=ManifestError).unwrap()
    except ManifestError:
        return {}
    uv = document.get("tool", {}).get("uv", {})
    return uv if isinstance(uv, dict) else {}


def _uv_sources(uv: dict[str, Any]) -> list[str]:
    """find-links, [[tool.uv.index]] urls, index-url and extra-index-url, in that order."""
    links = uv.get("find-links", [])
    indexes = [i.get("url") for i in uv.get("index", []) if isinstance(i, dict)]
    extra = uv.get("extra-index-url", []) or []
    values = [*(links if isinstance(links, list) else [links]), *indexes, uv.get("index-url"), *extra]
    return list(dict.fromkeys(v for v in values if isinstance(v, str) and v))


def _matches(filename: str, package: str, version: str) -> bool:
    try:
        if filename.endswith(".whl"):
            name, found, _, _ = parse_wheel_filename(filename)
        else:
            name, found = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return False
    return canonicalize_name(name) == package and found == Version(version)


def from_directory(repo: Path, directory: str, package: str, version: str) -> LockedPackage | None:
    """Archives of this version in a local find-links directory (hashed when read)."""
    base = repo / directory
    if not base.is_dir():
        return None
    files = sorted(p.name for p in base.iterdir() if _matches(p.name, package, version))
    wheels = tuple((f, "") for f in files if f.endswith(".whl"))
    sdist = next(((f, "") for f in files if not f.endswith(".whl")), None)
    if not wheels and sdist is None:
        return None
    return LockedPackage(package, version, (("registry", directory),), wheels, sdist)


class _Anchors(HTMLParser):
    """The links of a PEP 503 HTML simple page, as PEP 691 file entries."""

    def __init__(self) -> None:
        super().__init__()
        self.files: list[dict[str, Any]] = []
        self._href: str | None = None
        self._yanked = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            values = dict(attrs)
            self._href, self._yanked = values.get("href"), "data-yanked" in values

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            url, _, fragment = self._href.partition("#")
            digest = fragment.removeprefix("sha256=") if fragment.startswith("sha256=") else ""
            self.files.append(
                {"filename": data.strip(), "url": url, "hashes": {"sha256": digest}, "yanked": self._yanked}
            )
            self._href = None


def _page_files(body: bytes) -> list[dict[str, Any]]:
    """File entries of a simple-index page, JSON (PEP 691) or HTML (PEP 503)."""
    text = body.decode("utf-8", errors="replace").lstrip()
    if text.startswith("{"):
        files = json.loads(text).get("files", [])
        return [f for f in files if isinstance(f, dict)]
    parser = _Anchors()
    parser.feed(text)
    return parser.files


async def from_simple_index(index: str, package: str, version: str, *, get: GetJson) -> LockedPackage | None:
    """Files of this version from a simple index page (JSON or HTML), with their sha256."""
    page = urljoin(index.rstrip("/") + "/", f"{package}/")
    wheels: list[tuple[str, str]] = []
    sdist: tuple[str, str] | None = None
    body = await get(page)
    try:
        files = _page_files(body)
    except ValueError:
        raise ToolError(f"{redact_url(page)}: not a simple-index page (JSON or HTML)") from None
    for item in files:
        filename = str(item.get("filename", ""))
        if not _matches(filename, package, version) or item.get("yanked"):
            continue
        digest = item.get("hashes", {}).get("sha256", "")
        artifact = (urljoin(page, str(item.get("url", ""))), f"sha256:{digest}" if digest else "")
        if filename.endswith(".whl"):
            wheels.append(artifact)
        elif sdist is None:
            sdist = artifact
    if not wheels and sdist is None:
        return None
    return LockedPackage(package, version, (("registry", index),), tuple(wheels), sdist)


async def find_distribution(
    repo: Path,
    locks: Sequence[Lock],
    package: str,
    version: str,
    *,
    get: GetJson | None,
    manifests: Sequence[str] = ("pyproject.toml",),
) -> tuple[LockedPackage | None, list[str]]:
    """The entry to audit and the places searched (for the message when nothing is found)."""
    entry = from_locks(locks, package, version)
    if entry is not None:
        return entry, []
    searched = []
    for source in index_sources(repo, locks, package, manifests=manifests):
        searched.append(source)
        if "://" not in source:
            entry = from_directory(repo, source, package, version)
        elif get is not None and source.startswith(("http://", "https://")):
            entry = await from_simple_index(source, package, version, get=get)
        if entry is not None:
            return entry, searched
    return None, searched
