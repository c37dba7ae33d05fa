"""Release notes of every package whose version changed: index links, GitHub release bodies, cached."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import TypeGuard

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from bot.errors import ReleaseNotesError
from bot.model import PackageNotes, Release, ReleaseLink, Section, VersionChange
from bot.pipeline.context import Context, ReleaseSource
from bot.tools.release_index import Get, http_getter, project_links

MAX_PACKAGES = 40  # packages looked up per run; the rest are listed as not looked up
MAX_RELEASES = 10  # release bodies quoted per package, newest first
BODY_LIMIT = 2500  # characters of one release body; GitHub's 65,536 hold the whole summary
CONCURRENT = 4  # packages looked up at a time
DEADLINE = 90.0  # seconds for all of them: a job never waits long on an index or GitHub
_GITHUB = re.compile(
    r"^https://github\.com/([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/([A-Za-z0-9._-]{1,100}?)(?:\.git)?(?:/.*)?$"
)
_TAG_VERSION = re.compile(r"(\d+(?:\.\d+)*(?:[._-]?(?:a|b|rc|alpha|beta|post|dev)\.?\d*)*)$", re.IGNORECASE)
# Which link a maintainer opens first.
_RANK = ("changelog", "changes", "release notes", "releases", "history", "news", "source", "repository",
         "code", "github", "homepage", "documentation")  # fmt: skip


def ordered(changes: Sequence[VersionChange]) -> list[VersionChange]:
    """Requested packages first, then focused ones, then transitive bumps; by name within each."""
    return sorted(changes, key=lambda c: (not c.requested, not c.focused, c.package))


def github_repo(links: dict[str, str]) -> str | None:
    """`owner/name` of the first GitHub repository the links point at."""
    for url in links.values():
        match = _GITHUB.match(url.strip())
        if match and match.group(1).lower() not in ("sponsors", "orgs", "apps"):
            return f"{match.group(1)}/{match.group(2)}"
    return None


def rank_links(links: dict[str, str]) -> tuple[ReleaseLink, ...]:
    def rank(label: str) -> int:
        low = label.lower()
        return next((i for i, word in enumerate(_RANK) if word in low), len(_RANK))

    seen: set[str] = set()
    out = []
    for label in sorted(links, key=lambda label: (rank(label), label.lower())):
        url = links[label].strip()
        if url.startswith(("https://", "http://")) and url not in seen:
            seen.add(url)
            out.append(ReleaseLink(label, url))
    return tuple(out[:8])


def tag_version(tag: str, package: str) -> Version | None:
    """The version a release tag names (`v1.2.0`, `1.2.0`, `pkg-v1.2.0`, `release-1.2`); None for
    another package's tag in a repository that releases several."""
    match = _TAG_VERSION.search(tag)
    if match is None:
        return None
    prefix = canonicalize_name(tag[: match.start()].rstrip("-_/=@v").strip()) if tag[: match.start()] else ""
    if prefix not in ("", "v", "release", canonicalize_name(package)):
        return None
    try:
        return Version(match.group(1))
    except InvalidVersion:
        return None


def between(releases: Sequence[Release], package: str, old: str, new: str) -> list[Release]:
    """Releases after `old` up to `new`, newest first, one per version."""
    low, high = Version(old), Version(new)
    found: dict[Version, Release] = {}
    for release in releases:
        version = tag_version(release.tag, package)
        if version is not None and low < version <= high and version not in found:
            found[version] = release
    return [found[v] for v in sorted(found, reverse=True)]


def trimmed(release: Release) -> Release:
    """The body within BODY_LIMIT characters, cut at a line end, marked when cut."""
    if len(release.body) <= BODY_LIMIT:
        return release
    cut = release.body[:BODY_LIMIT]
    cut = cut[: cut.rfind("\n")] if "\n" in cut[BODY_LIMIT // 2 :] else cut
    return replace(release, body=cut.rstrip(), truncated=True)


class NotesCache:
    """Notes per package and version pair, as JSON under the cache directory; only complete ones."""

    def __init__(self, root: Path) -> None:
        self.root = root / "release-notes"

    def _path(self, name: str, old: str, new: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9._+!-]", "_", f"{name}-{old}-{new}")
        return self.root / f"{safe}.json"

    def get(self, name: str, old: str, new: str) -> PackageNotes | None:
        try:
            data = json.loads(self._path(name, old, new).read_text())
            links = tuple(ReleaseLink(**link) for link in data.pop("links"))
            releases = tuple(Release(**release) for release in data.pop("releases"))
            return PackageNotes(**data, links=links, releases=releases)
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def put(self, notes: PackageNotes) -> None:
        path = self._path(notes.package, notes.old, notes.new)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(asdict(notes)))
            temporary.replace(path)
        except OSError:
            return  # a cache that cannot be written only costs a lookup next time


def _latest(versions: Sequence[str]) -> str | None:
    try:
        return str(max(Version(v) for v in versions)) if versions else None
    except InvalidVersion:
        return None


def _index_of(ctx: Context, change: VersionChange) -> str | None:
    for variant in change.variants:
        lock = ctx.new_locks.get(variant)
        for entry in lock.packages.get(change.package, ()) if lock else ():
            registry = dict(entry.source).get("registry", "")
            if registry.startswith(("https://", "http://")):
                return registry
    return None


async def _releases(
    source: ReleaseSource, repo: str, package: str, old: str, new: str
) -> tuple[list[Release], int]:
    found = between(await source.list_releases(repo), package, old, new)
    if not any(tag_version(r.tag, package) == Version(new) for r in found):
        # Older repositories list more than one page of releases: ask for the new version's tag itself.
        for tag in (f"v{new}", new):
            release = await source.release_by_tag(repo, tag)
            if release is not None:
                found = between([release, *found], package, old, new)
                break
    return [trimmed(r) for r in found[:MAX_RELEASES]], max(0, len(found) - MAX_RELEASES)


async def notes_for(
    change: VersionChange, *, index: str | None, get: Get, source: ReleaseSource, cache: NotesCache
) -> PackageNotes:
    """One package's notes: its index's links, then its GitHub releases between the two versions."""
    old, new = _latest(change.old), _latest(change.new)
    base = PackageNotes(change.package, old or "", new or "", change.requested, change.focused)
    if old is None or new is None:
        return replace(base, problem="newly added" if new else "removed")
    if (cached := cache.get(change.package, old, new)) is not None:
        return replace(cached, requested=change.requested, focused=change.focused)
    if not _remote(index):
        return replace(
            base, problem="unknown: it does not come from a package index (a local directory or a URL)"
        )
    try:
        links = await project_links(get, index, change.package, new)
    except ReleaseNotesError as exc:
        return replace(base, problem=str(exc))
    notes = replace(base, links=rank_links(links), repository=github_repo(links))
    if notes.repository is None:
        notes = replace(notes, problem="its index metadata names no GitHub repository to read releases from")
    else:
        try:
            releases, more = await _releases(source, notes.repository, change.package, old, new)
        except ReleaseNotesError as exc:
            return replace(notes, problem=str(exc))  # not cached: it may answer next time
        notes = replace(notes, releases=tuple(releases), more=more)
        if not releases:
            notes = replace(notes, problem=f"no GitHub release of {notes.repository} between {old} and {new}")
    cache.put(notes)
    return notes


async def step(ctx: Context, source: ReleaseSource | None) -> tuple[PackageNotes, ...]:
    """The release-notes step of a run: not run without a source; never fails the run."""
    if source is None:
        ctx.sections["notes"] = Section("not run", "release notes are not looked up in this run")
        return ()
    ctx.sections["notes"] = Section("done")
    return await gather(
        ctx.changes, index_of=lambda c: _index_of(ctx, c), cache_dir=ctx.cache_dir, source=source
    )


async def gather(
    changes: Sequence[VersionChange], *, index_of: Callable[[VersionChange], str | None], cache_dir: Path,
    source: ReleaseSource, deadline: float = DEADLINE,
) -> tuple[PackageNotes, ...]:  # fmt: skip
    """The notes of every changed package (at most MAX_PACKAGES, a few at a time, within `deadline`
    seconds); never raises for the network: what could not be had is said per package."""
    ordered_changes = ordered(changes)
    if not ordered_changes:
        return ()
    wanted = ordered_changes[:MAX_PACKAGES]
    indexes = [index_of(c) for c in wanted]
    cache = NotesCache(cache_dir)
    if not any(_remote(index) for index in indexes):
        # Every package comes from a local directory or a URL: no lookup needs the network, and the
        # HTTP client (a tenth of a second to import) is not loaded.
        found = await _collect(wanted, indexes, get=_offline, source=source, cache=cache, deadline=deadline)
    else:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            found = await _collect(wanted, indexes, get=http_getter(session), source=source, cache=cache,
                                   deadline=deadline)  # fmt: skip
    many = f"not looked up: more than {MAX_PACKAGES} packages changed"
    return (*found, *(_unlooked(c, many) for c in ordered_changes[MAX_PACKAGES:]))


def _remote(index: str | None) -> TypeGuard[str]:
    return index is not None and index.startswith(("https://", "http://"))


async def _offline(url: str, accept: str | None) -> bytes:
    raise ReleaseNotesError(f"{url} is not looked up: no package of this run comes from an index")


async def _collect(
    changes: Sequence[VersionChange], indexes: Sequence[str | None], *, get: Get, source: ReleaseSource,
    cache: NotesCache, deadline: float,
) -> list[PackageNotes]:  # fmt: skip
    limit = asyncio.Semaphore(CONCURRENT)

    async def one(c: VersionChange, index: str | None) -> PackageNotes:
        async with limit:
            return await notes_for(c, index=index, get=get, source=source, cache=cache)

    tasks = [asyncio.ensure_future(one(c, index)) for c, index in zip(changes, indexes, strict=True)]
    try:
        await asyncio.wait(tasks, timeout=deadline)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    late = f"not looked up: the lookups took longer than {deadline:.0f} s"
    return [_finished(c, task, late) for c, task in zip(changes, tasks, strict=True)]


def _finished(c: VersionChange, task: asyncio.Future[PackageNotes], late: str) -> PackageNotes:
    if task.cancelled():
        return _unlooked(c, late)
    if (error := task.exception()) is not None:
        return _unlooked(c, f"not looked up: {type(error).__name__}")
    return task.result()


def _unlooked(c: VersionChange, why: str) -> PackageNotes:
    return PackageNotes(
        c.package, _latest(c.old) or "", _latest(c.new) or "", c.requested, c.focused, problem=why
    )
