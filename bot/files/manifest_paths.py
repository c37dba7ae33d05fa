"""Local paths the manifests reference (path dependencies, find-links, file:// indexes), for the sandbox."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement

from bot.files.manifest import Manifest, parse_requirement
from bot.model import Extra

DEPENDENCY_KEYS = ("override-dependencies", "constraint-dependencies", "dev-dependencies")


def _local(value: object, folder: Path) -> Path | None:
    """A filesystem path from a find-links entry or index URL: relative, absolute or file://."""
    if not isinstance(value, str) or not value:
        return None
    if value.startswith("file://"):
        return Path(unquote(urlsplit(value).path))
    if "://" in value:
        return None
    return folder / value


def _absolute(value: str) -> bool:
    return value.startswith("file://") or PurePosixPath(value).is_absolute()


def _requirements(doc: Mapping[str, Any]) -> Iterator[str]:
    project = doc.get("project", {})
    yield from project.get("dependencies", [])
    for group in project.get("optional-dependencies", {}).values():
        yield from group
    for group in doc.get("dependency-groups", {}).values():
        yield from (item for item in group if isinstance(item, str))
    uv = doc.get("tool", {}).get("uv", {})
    for key in DEPENDENCY_KEYS:
        yield from uv.get(key, [])


def _sources(uv: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for name, value in uv.get("sources", {}).items():
        for entry in value if isinstance(value, list) else [value]:
            if isinstance(entry, Mapping):
                yield name, entry


def manifest_paths(repo: Path, display: str, manifest: Manifest) -> Iterator[Extra]:
    """Every local path one manifest names, with where it is named; the sandbox decides what to bind."""
    folder = repo / PurePosixPath(display).parent
    doc = manifest.doc
    uv = doc.get("tool", {}).get("uv", {})
    for name, entry in _sources(uv):
        if isinstance(entry.get("path"), str):
            # A path dependency is built where it is: its backend may write there (egg-info, build/).
            yield Extra(folder / entry["path"], f"{display} [tool.uv.sources] {name}", writable=True,
                        absolute=_absolute(entry["path"]))  # fmt: skip
    links = uv.get("find-links", [])
    for link in [links] if isinstance(links, str) else links:
        if (path := _local(link, folder)) is not None:
            yield Extra(path, f"{display} [tool.uv] find-links", absolute=_absolute(link))
    indexes = [("index-url", uv.get("index-url"))]
    extra = uv.get("extra-index-url", [])
    indexes += [("extra-index-url", url) for url in ([extra] if isinstance(extra, str) else extra)]
    named = [item for item in uv.get("index", []) if isinstance(item, Mapping)]
    indexes += [("[[tool.uv.index]] url", item.get("url")) for item in named]
    for key, url in indexes:
        if isinstance(url, str) and url.startswith("file://") and (path := _local(url, folder)) is not None:
            # A local index's pages link to files beside them (`…/simple/` and `…/files/`): its parent.
            yield Extra(path.parent, f"{display} [tool.uv] {key}", absolute=True)
    for text in _requirements(doc):
        try:
            url = parse_requirement(text).url if isinstance(text, str) else None
        except InvalidRequirement:
            continue
        if url and url.startswith("file://") and (path := _local(url, folder)) is not None:
            yield Extra(path, f"{display} dependency {text!r}", writable=True, absolute=True)


def outside_paths(repo: Path, manifests: Mapping[str, Manifest]) -> tuple[Extra, ...]:
    """The local paths of every variant's manifest, once each."""
    found: dict[Path, Extra] = {}
    for manifest in manifests.values():
        for extra in manifest_paths(repo, manifest.display, manifest):
            found.setdefault(extra.path, extra)
    return tuple(found.values())
