"""Frozen dataclasses every step passes around: the request, variants, changes, findings, the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from bot.audit.runner import AuditReport
    from checklists.validate import ChecklistReport

Severity = Literal["error", "warning", "info"]
Status = Literal["done", "not run", "skipped"]


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
    """One installable flavour of the repository: a manifest and the lock it produces."""

    name: str
    manifest: str  # path relative to the repository root
    lock: str


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
class Resolution:
    """A conflict the bot resolved itself by moving one of the repository's own pins."""

    package: str
    old_specifier: str
    new_specifier: str
    variant: str
    because: str  # who requires what, from the resolver's explanation
    declarations: tuple[Declaration, ...] = ()


@dataclass(frozen=True)
class Unresolved:
    """Something a person must decide; optionally located at a file and line."""

    kind: str  # "conflict", "not-landed", "url-pin", "family", "tag-deferred", "verify", "policy", ...
    message: str
    file: str | None = None
    line: int | None = None
    blocking: bool = True  # blocking: the upgrade did not land; otherwise it landed but needs attention


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
class Commit:
    """A commit the pipeline made."""

    sha: str
    message: str


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
