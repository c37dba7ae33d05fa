"""The state of one pipeline run that the steps read and add to."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bot.files import repofiles
from bot.files.config import Config
from bot.files.lockfile import Lock
from bot.files.manifest import Manifest
from bot.files.transaction import FileTransaction
from bot.model import (
    AuditReport,
    ChecklistReport,
    ContainerChange,
    Declaration,
    Extra,
    FixResult,
    PackageNotes,
    Release,
    Request,
    Resolution,
    Section,
    Unresolved,
    UpgradeResult,
    Variant,
    VerifyResult,
    VersionChange,
    Warning_,
)
from bot.tools.isolation import Isolation
from bot.tools.uv import Locker

Progress = Callable[[str], Awaitable[None]]
# A commit message, or how to render it: rendering waits until commit time, so jinja2 is not imported
# before uv starts (start-up counts in the pipeline's overhead).
Message = str | Callable[[], str]


class Observer(Protocol):
    """Told how long steps took and what registries answered (the service's metrics); the pipeline
    only reports, so a local run passes none."""

    def step(self, name: str, seconds: float) -> None: ...

    def registry_check(self, outcome: str) -> None: ...


class _Unobserved:
    def step(self, name: str, seconds: float) -> None:
        return None

    def registry_check(self, outcome: str) -> None:
        return None


UNOBSERVED: Observer = _Unobserved()


class ReleaseSource(Protocol):
    """Where release bodies come from: GitHub's releases of a repository (anonymously on a laptop,
    with the installation's token in the service). Raises ReleaseNotesError when it cannot answer."""

    async def list_releases(self, repo: str) -> Sequence[Release]: ...

    async def release_by_tag(self, repo: str, tag: str) -> Release | None: ...


@contextmanager
def timed(observer: Observer, name: str) -> Iterator[None]:
    """Report the block's duration as step `name`, however it ends."""
    start = time.monotonic()
    try:
        yield
    finally:
        observer.step(name, time.monotonic() - start)


@dataclass(frozen=True)
class Runtime:
    """How this process runs repository code, the same for every run: set up once by its caller."""

    environ: Mapping[str, str]  # filtered per child (bot.tools.proc.child_env) before anything sees it
    isolation: Isolation  # every uv call and verification command runs under it
    uv_timeout: float = 600.0  # seconds each uv call may take
    # Downloaded distributions and extracted APIs, kept between runs (None: the user's cache directory).
    cache_dir: Path | None = None
    observer: Observer = UNOBSERVED  # step durations and registry answers, for the service's metrics


@dataclass(frozen=True)
class RunOptions:
    """What one run may do with the checkout it is given."""

    config_path: Path | None = None  # None: the repository's own `.github/upgrade-deps.toml`
    commit: bool = True  # commit the changes, one commit per step
    trusted: bool = True  # False: a fork's pull request: no verification commands, no registry
    # Where `isolation` refuses repository code, the head's own lock changes are still audited
    # against this commit (a bot pull request's base); the run ends refused.
    static_base: str | None = None
    fix: bool = True  # False (`--no-fix`): the audit reports, nothing is fixed
    # Release notes of the changed packages are looked up through this (None: not looked up).
    release_notes: ReleaseSource | None = None


@dataclass(frozen=True)
class StepCommit:
    """The content of the files one step changed, and the commit message that explains it."""

    message: Message
    files: Mapping[str, str]

    def text(self) -> str:
        return self.message if isinstance(self.message, str) else self.message()


@dataclass
class Context:
    """Everything a step needs, built once; the mutable lists collect what the steps report."""

    repo: Path
    request: Request
    config: Config
    variants: tuple[Variant, ...]
    manifests: dict[str, Manifest]
    baseline: dict[str, Lock]
    focused: frozenset[str]
    locker: Locker
    files: FileTransaction
    progress: Progress
    environ: Mapping[str, str]
    trusted: bool
    cache_dir: Path
    isolation: Isolation
    extras: tuple[Extra, ...]  # paths outside the work tree the manifests reference
    # Workspace members' manifests, by root-relative path (a unit's own manifest is in `manifests`).
    members: dict[str, Manifest] = field(default_factory=dict)
    # Each variant's manifest as the repository wrote it: what a report quotes, whatever the run edited.
    originals: dict[str, str] = field(default_factory=dict)
    new_locks: dict[str, Lock] = field(default_factory=dict)
    locked: list[str] = field(default_factory=list)  # variants this run re-locked
    containers: tuple[ContainerChange, ...] = ()
    verify: tuple[VerifyResult, ...] = ()
    validated: set[str] = field(default_factory=set)  # packages whose checklists step 0.5 has seen
    checklists: tuple[ChecklistReport, ...] = ()
    audit: AuditReport | None = None
    fix_mode: str = "push"  # "push", "suggest" (only computed, for suggested changes) or "off"
    fixes: list[FixResult] = field(default_factory=list)
    changes: tuple[VersionChange, ...] = ()
    resolutions: list[Resolution] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)
    sections: dict[str, Section] = field(default_factory=dict)
    snapshots: list[StepCommit] = field(default_factory=list)
    observer: Observer = UNOBSERVED
    notes_source: ReleaseSource | None = None
    release_notes: tuple[PackageNotes, ...] = ()
    # Set once every variant's uv is under way: the background work waits for it (bot/pipeline/prefetch.py).
    uv_running: asyncio.Event = field(default_factory=asyncio.Event)

    def variant(self, name: str) -> Variant:
        return next(v for v in self.variants if v.name == name)

    def declared(self, variant: str) -> Manifest:
        """The variant's manifest as the repository wrote it, before this run edited anything."""
        text = self.originals.get(variant, self.manifests[variant].text)
        return Manifest(text, display=self.variant(variant).manifest)

    def declared_in_unit(self, variant: str, package: str) -> list[Declaration]:
        """`package`'s declarations in the variant's manifest as written, then in its members'
        (whose lines a run's edits never move)."""
        found = self.declared(variant).declarations(package)
        for path in self.variant(variant).members:
            found += self.manifest_at(path).declarations(package)
        return found

    def roots(self, variant: str) -> frozenset[str]:
        """The repository's own projects in a variant, as the resolver names them."""
        name = self.manifests[variant].project_name()
        return self.baseline[variant].roots | ({name} if name else set())

    def write_manifest(self, variant: str, text: str) -> None:
        """Replace a variant's manifest text on disk and in memory (all variants sharing the file)."""
        self.write_manifest_at(self.variant(variant).manifest, text)

    def write_manifest_at(self, path: str, text: str) -> None:
        """Replace the manifest at `path` (a unit's own or a member's) on disk and in memory."""
        self.files.write(path, text)
        for other in self.variants:
            if other.manifest == path:
                self.manifests[other.name] = Manifest(text, display=path)
        if path in self.members:
            self.members[path] = Manifest(text, display=path)

    def manifest_at(self, path: str) -> Manifest:
        """The current manifest at `path`, a unit's own or a workspace member's."""
        if path in self.members:
            return self.members[path]
        return next(self.manifests[v.name] for v in self.variants if v.manifest == path)

    def unit_members(self) -> dict[str, list[Manifest]]:
        """Each unit's workspace members' manifests, current."""
        return {v.name: [self.manifest_at(path) for path in v.members] for v in self.variants}

    def all_manifests(self) -> dict[str, Manifest]:
        """Every manifest of every unit, by path."""
        found = {v.manifest: self.manifests[v.name] for v in self.variants}
        return {**found, **self.members}

    def snapshot(self, message: Message, paths: list[str], *, first: bool = False) -> None:
        """Record the current content of `paths` as one commit (`first`: before all others)."""
        if paths:
            files = {path: repofiles.read_text(self.repo, path) for path in paths}
            self.snapshots.insert(0 if first else len(self.snapshots), StepCommit(message, files))

    def result(self, *, outcome: str, date: str) -> UpgradeResult:
        return UpgradeResult(
            request=self.request,
            outcome=outcome,
            date=date,
            variants=self.variants,
            changes=self.changes,
            resolutions=tuple(self.resolutions),
            unresolved=tuple(self.unresolved),
            warnings=tuple(self.warnings),
            containers=self.containers,
            findings=self.audit.findings if self.audit else (),
            audit=self.audit,
            checklists=self.checklists,
            verify=self.verify,
            sections=dict(self.sections),
            fixes=tuple(self.fixes),
            release_notes=self.release_notes,
        )
