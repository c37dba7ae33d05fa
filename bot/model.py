"""Frozen dataclasses the steps pass around: the request, variants, changes, findings, reports, result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning", "info"]
Status = Literal["done", "not run", "skipped"]
# Audit finding kinds about compat shims and version guards: cleanup the upgrade allows, not breakage.
COMPAT_KINDS = frozenset(
    {
        "compat-untagged",
        "compat-not-evaluated",
        "compat-removable",
        "compat-version-gate",
        "stub-missing",
        "compat-missing-file",
    }
)
HOUSEKEEPING = COMPAT_KINDS | {"version-guard"}


@dataclass(frozen=True)
class Requested:
    """One `pkg==version[@variant]` argument, parsed."""

    name: str  # canonical (PEP 503) name
    display: str  # as the user wrote it
    version: str  # normalised PEP 440 version
    variant: str | None = None

    @property
    def text(self) -> str:
        suffix = f"@{self.variant}" if self.variant else ""
        return f"{self.display}=={self.version}{suffix}"


@dataclass(frozen=True)
class Request:
    """Everything after `/upgrade-deps`, parsed."""

    items: tuple[Requested, ...]
    raw: str
    image_tag: str | None = None
    allow_downgrade: bool = False


@dataclass(frozen=True)
class Variant:
    """One lock unit: a manifest (with its workspace members' manifests) and the lock uv makes of them.

    A root `pyproject.<name>.toml` variant, a uv workspace and a project in a subdirectory with its own
    `uv.lock` are all units; `uv lock` runs once per unit, in the manifest's directory.
    """

    name: str
    manifest: str  # path relative to the repository root
    lock: str
    members: tuple[str, ...] = ()  # the workspace members' manifests (root-relative), this one excluded
    after: tuple[str, ...] = ()  # units whose projects this unit's lock reaches through path dependencies

    @property
    def manifests(self) -> tuple[str, ...]:
        """Every manifest whose pins this unit's lock holds: its own first, then its members'."""
        return (self.manifest, *self.members)


@dataclass(frozen=True)
class Extra:
    """A path outside the work tree that the repository legitimately needs (say, a path dependency)."""

    path: Path
    why: str  # where it comes from, for the error message: "pyproject.toml [tool.uv.sources] lib"
    writable: bool = False
    absolute: bool = False  # named by an absolute path (or file:// URL), not relative to the manifest


@dataclass(frozen=True)
class Declaration:
    """One place a package is declared in a manifest."""

    manifest: str
    line: int  # 1-based line of the requirement string
    section: str  # e.g. "[project].dependencies", "[project.optional-dependencies].sglang"
    requirement: str  # the requirement string as written
    specifier: str  # its version specifier, "" when none
    url: str | None = None  # direct reference (`pkg @ git+...`)


@dataclass(frozen=True)
class LockedPackage:
    """One `[[package]]` entry of a lock file, with where its distributions come from."""

    name: str
    version: str
    source: tuple[tuple[str, str], ...]  # e.g. (("registry", "https://pypi.org/simple"),)
    wheels: tuple[tuple[str, str], ...] = ()  # (url or path, "sha256:..." or "")
    sdist: tuple[str, str] | None = None


@dataclass(frozen=True)
class VersionChange:
    """A package whose resolved version differs between the baseline and the new lock of a variant."""

    package: str
    old: tuple[str, ...]  # every version the old lock holds (marker splits keep several)
    new: tuple[str, ...]
    variants: tuple[str, ...]
    requested: bool
    focused: bool


@dataclass(frozen=True)
class Requires:
    """An upstream package's requirement on another, as the resolver names it."""

    who: str  # "sglang>=0.5.10", "oldpeft"
    requirement: str  # "transformers>=4.57"
    every: bool = False  # every version of `who` requires it


@dataclass(frozen=True)
class Resolution:
    """A conflict the bot resolved itself by moving one of the repository's own pins."""

    package: str
    old_specifier: str
    new_specifier: str
    variant: str
    because: str  # who requires what, from the resolver's explanation
    declarations: tuple[Declaration, ...] = ()
    requirements: tuple[Requires, ...] = ()  # the upstream requirements on this package
    version: str = ""  # the version the pin moved to
    newest: str = ""  # the newest version that resolved with our pins relaxed
    strategy: str = "least"  # `[policy] resolve`
    least: bool = False  # `version` is the least that resolves with every other pin kept
    own: bool = False  # `requirements` are the old version's own, which the other packages rule out


@dataclass(frozen=True)
class Unresolved:
    """Something a person must decide; located at the file and line that blocks it, where there is one."""

    kind: str  # "conflict", "not-landed", "url-pin", "family", "tag-deferred", "verify", "policy", ...
    message: str
    file: str | None = None
    line: int | None = None
    blocking: bool = True  # blocking: the upgrade did not land; otherwise it landed but needs attention
    subject: str = ""  # what it is about (a package, a command), so a later run recognises it


@dataclass(frozen=True)
class Warning_:
    """Something worth saying that does not stop the upgrade (unknown package, family co-upgrade)."""

    message: str
    file: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Finding:
    """One audit finding at a call site of the repository."""

    file: str
    line: int
    column: int
    package: str
    symbol: str
    kind: str  # "removed", "moved", "keyword-removed", "new-required", "too-many-positional", ...
    severity: Severity
    message: str
    old_signature: str | None = None
    new_signature: str | None = None
    catalog_entry: str | None = None
    # Proven by the audit, so a fix may apply it: (old path, the one new public path) of a `moved`
    # symbol, or (old, new name) of a keyword the new version still maps or only renamed.
    replacement: tuple[str, str] | None = None


@dataclass(frozen=True)
class GuardStatus:
    """One version guard and whether the new floor makes it dead."""

    file: str
    line: int
    text: str
    removable: bool


@dataclass(frozen=True)
class PackageAudit:
    """One package's part of the audit: the summary's `#### pkg (old → new)` block."""

    package: str
    old: str
    new: str
    findings: tuple[Finding, ...] = ()
    moves: tuple[tuple[str, str], ...] = ()
    guards: tuple[GuardStatus, ...] = ()
    error: str | None = None  # why the package could not be audited
    roots: tuple[str, ...] = ()  # the import names of the package it searched for

    @property
    def breaking(self) -> tuple[Finding, ...]:
        """Findings at call sites that stop fitting (error) or only fit through **kwargs (warning)."""
        return tuple(f for f in self.findings if f.severity != "info" and f.kind not in HOUSEKEEPING)

    @property
    def notes(self) -> tuple[Finding, ...]:
        """Changed defaults the code relies on."""
        return tuple(f for f in self.findings if f.severity == "info" and f.kind not in HOUSEKEEPING)

    @property
    def compat(self) -> tuple[Finding, ...]:
        """Compat-shim policy findings (untagged, removable, version gates, stub lists)."""
        return tuple(f for f in self.findings if f.kind in COMPAT_KINDS)


@dataclass(frozen=True)
class AuditReport:
    """Everything step 6 found, per package, in the order the changes came."""

    packages: tuple[PackageAudit, ...] = ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for p in self.packages for f in p.findings)

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


@dataclass(frozen=True)
class ChecklistProblem:
    """Something wrong with a checklist itself: its file, the line when there is one, and what."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ChecklistReport:
    """What step 0.5 found (and, with fix, changed) in one package's checklist."""

    package: str
    path: str
    missing: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    undocumented: Mapping[str, tuple[str, ...]] | None = None  # changed file -> imports not in its row
    added: Mapping[str, int] | None = None  # tier -> files added (when fixed)
    new_entries: tuple[str, ...] = ()
    problems: tuple[ChecklistProblem, ...] = ()
    created: bool = False
    fixed: bool = False

    @property
    def clean(self) -> bool:
        return not (self.missing or self.stale or self.changed or self.problems or self.new_entries)


@dataclass(frozen=True)
class ContainerChange:
    """One rewritten (or proposed, or deferred) container reference."""

    file: str
    line: int
    package: str
    old: str
    new: str
    status: Literal["written", "proposed", "deferred"] = "written"
    reason: str = ""


@dataclass(frozen=True)
class VerifyResult:
    """One configured verification command and how it ended."""

    name: str
    status: Literal["pass", "fail", "skipped", "timeout"]
    detail: str = ""  # last lines of output, or the reason it was skipped


@dataclass(frozen=True)
class Section:
    """A step's part of the report: whether it ran, and its lines when it did."""

    status: Status = "not run"
    reason: str = ""


@dataclass(frozen=True)
class Hunk:
    """Lines `start`..`end` (1-based, inclusive; `end` = `start` - 1 inserts before `start`) of `file`
    as the fix rewrites them: what a suggested change on GitHub proposes."""

    file: str
    start: int
    end: int
    text: str  # the replacement lines, each ending in a newline ("" deletes them)


@dataclass(frozen=True)
class Rewrite:
    """One change a fix made, for the commit message and the summary (worded by the templates)."""

    file: str
    line: int  # in the file before the fix
    action: Literal["fallback", "polyfill", "all", "unused", "stub", "import", "keyword"]
    subject: str  # what went or changed: the names a fallback bound, a polyfill, a module, an old path
    detail: str = ""  # the versions a fallback covered, or the new path or keyword name


@dataclass(frozen=True)
class FixResult:
    """One mechanical fix: the compat deprecation pass or the proven API moves of one package."""

    package: str
    kind: Literal["compat", "api"]
    version: str  # the new version it follows
    rewrites: tuple[Rewrite, ...]
    hunks: tuple[Hunk, ...] = ()
    plain_shims: tuple[str, ...] = ()  # shim files the pass left as plain re-exports
    commit: str | None = None  # its subject, once committed
    reverted: str | None = None  # why it was dropped (a verification command it broke)


@dataclass(frozen=True)
class Commit:
    """A commit the pipeline made."""

    sha: str
    message: str


@dataclass(frozen=True)
class Release:
    """One release of a package's source repository on GitHub, as published there (untrusted text)."""

    tag: str
    name: str
    url: str
    body: str
    truncated: bool = False  # the body was cut to stay within GitHub's limits


@dataclass(frozen=True)
class ReleaseLink:
    """A link from the package's index metadata: its changelog, release notes, source, homepage."""

    label: str
    url: str


@dataclass(frozen=True)
class PackageNotes:
    """The release notes of one package whose resolved version changed; `problem` says what is missing."""

    package: str
    old: str
    new: str
    requested: bool
    focused: bool
    links: tuple[ReleaseLink, ...] = ()
    repository: str | None = None  # owner/name on GitHub, from the links
    releases: tuple[Release, ...] = ()  # newest first, between old (excluded) and new
    problem: str = ""  # offline, unknown, no releases: said, never made up
    more: int = 0  # releases in range left out to stay within GitHub's limits


@dataclass(frozen=True)
class UpgradeResult:
    """What one run of the pipeline did; the report and the check run are rendered from it."""

    request: Request
    outcome: str  # a key of errors.OUTCOMES
    date: str
    variants: tuple[Variant, ...] = ()
    changes: tuple[VersionChange, ...] = ()
    resolutions: tuple[Resolution, ...] = ()
    unresolved: tuple[Unresolved, ...] = ()
    warnings: tuple[Warning_, ...] = ()
    containers: tuple[ContainerChange, ...] = ()
    findings: tuple[Finding, ...] = ()
    verify: tuple[VerifyResult, ...] = ()
    commits: tuple[Commit, ...] = ()
    sections: dict[str, Section] = field(default_factory=dict)  # "checklists", "containers", "audit", ...
    error: str | None = None  # the refusal or failure message, when the run stopped early
    audit: AuditReport | None = None  # step 6 per package (moves, guards, notes) for the summary
    checklists: tuple[ChecklistReport, ...] = ()  # step 0.5 per checklist
    fixes: tuple[FixResult, ...] = ()  # the mechanical fixes, applied, suggested or reverted
    release_notes: tuple[PackageNotes, ...] = ()  # per changed package, requested and focused first
