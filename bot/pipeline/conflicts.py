"""Classifies a failed lock by trying: relax our own pins in a scratch copy and see what resolves."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import tomlkit
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from bot.files.manifest import Manifest, split_specifier
from bot.files.specifiers import admits, bump_specifier
from bot.model import Declaration, Requires, Variant
from bot.pipeline.derivation import Clause, clauses, requirers
from bot.pipeline.scratch import Scratch, scratch_copy
from bot.text.wording import say
from bot.tools.proc import Completed
from bot.tools.uv import Locker

MAX_ROUNDS = 3  # pin moves per variant before a conflict is left to a person


@dataclass(frozen=True)
class PinMove:
    """One of our declarations that blocked the resolution, and the specifier that unblocks it."""

    declaration: Declaration
    package: str
    old_specifier: str  # as written (packaging's normal form may order clauses otherwise)
    new_specifier: str
    resolved: str  # the version the pin moves to
    newest: str  # the newest version that resolved once our pins were relaxed
    least: bool  # `resolved` is the least version that resolves with every other pin kept
    requirements: tuple[Requires, ...]  # the upstream requirements on this package
    own: bool = (
        False  # `requirements` are the pinned version's own, and those of the packages it clashes with
    )


@dataclass(frozen=True)
class Diagnosis:
    kind: Literal["own-pins", "upstream", "unavailable", "failed"]
    moves: tuple[PinMove, ...]
    explanation: str  # who requires what, in one sentence
    output: str = ""  # uv's account of the clash, with our own pins relaxed where that failed too


@dataclass(frozen=True)
class LockProblem:
    """A variant that did not lock, and what trying needs to know about it."""

    variant: Variant
    manifest: Manifest  # as it is now: the requested pins written
    pins: tuple[str, ...]  # this variant's `pkg==version` upgrade targets
    protected: frozenset[str]  # requested packages: never relaxed
    failure: str  # uv's output
    roots: frozenset[str]  # the repository's own projects, as uv names them
    locked: Mapping[str, tuple[str, ...]]  # what the variant's lock held before the run
    resolve: str = "least"  # `[policy] resolve`: how far a blocking pin moves
    members: tuple[Manifest, ...] = ()  # the workspace members' manifests: their pins are ours too

    @property
    def manifests(self) -> tuple[Manifest, ...]:
        return (self.manifest, *self.members)


async def _trial(
    trial: Scratch, problem: LockProblem, text_of: Callable[[Manifest], str], **options: Any
) -> Completed:
    """Lock with `text_of` applied to the unit's manifest and to each member's."""
    members = {member.display: text_of(member) for member in problem.members}
    return await trial.lock(text_of(problem.manifest), members=members, **options)


def explain(output: str, roots: Collection[str]) -> str:
    """Who requires what (upstream packages only), or the resolver's first error line, as one sentence."""
    found = [say("conflicts", "requires", **vars(c.requires)) for c in clauses(output, roots=roots)]
    if found:
        return "; ".join(found)
    lines = [line.strip() for line in output.splitlines()]
    for index, line in enumerate(lines):
        if line.startswith(("cause:", "╰─▶")):
            paragraph = [line.split(":", 1)[1] if line.startswith("cause:") else line[3:]]
            paragraph += [more for more in lines[index + 1 :] if more and not more.startswith("hint:")]
            return " ".join(" ".join(paragraph).split())
    for line in lines:
        if line.startswith(("error:", "×")):
            return line
    return output.strip().splitlines()[-1] if output.strip() else "uv gave no explanation"


def lock_error(output: str) -> str:
    """uv's error for a lock that failed for another reason than the resolution (a git fetch, a
    build, the network): its first line and the innermost cause, which is what a person acts on."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    first = next((line for line in lines if line.startswith("error:")), None)
    if first is None:
        return explain(output, ())
    causes = [line for line in lines[lines.index(first) + 1 :] if not line.startswith(("---", "hint:"))]
    innermost = causes[-1].removeprefix("cause:").strip() if causes else ""
    head = first.removeprefix("error:").strip()
    return f"{head}: {innermost}" if innermost and innermost != head else head


def _edited(manifest: Manifest, specifier_for: Callable[[str, str], str | None]) -> str:
    """The manifest's text with `specifier_for(name, old)` applied, leaving `manifest` itself as it is."""
    return Manifest(manifest.text, display=manifest.display).rewrite_each(specifier_for)[0]


def _relaxed(manifest: Manifest, protected: Collection[str]) -> str:
    """The manifest with every version specifier we wrote ourselves removed, except `protected` ones."""
    return _edited(manifest, lambda name, spec: "" if spec and name not in protected else None)


def _only_requested(manifest: Manifest, pins: Collection[str]) -> str:
    """A manifest that asks for nothing but the requested pins, with the same index settings.

    Whatever names what it drops goes too (default groups, conflicts, sources tied to an extra or a
    group, workspace members), or uv refuses the scratch manifest itself and its error is taken for
    the requested version's. Nothing of the repository is built: the project becomes virtual.
    """
    doc = tomlkit.parse(manifest.text)
    project = doc.setdefault("project", tomlkit.table())
    project.setdefault("name", "upgrade-deps-scratch")
    if "version" not in project:
        project["version"] = "0"
    project["dependencies"] = sorted(pins)
    for key in ("optional-dependencies", "dynamic"):
        project.pop(key, None)
    for key in ("dependency-groups", "build-system"):
        doc.pop(key, None)
    uv = doc.get("tool", {}).get("uv")
    if uv is not None:
        for key in _SCRATCH_DROPPED:
            uv.pop(key, None)
        uv["package"] = False
        _keep_sources(uv, {Requirement(pin).name for pin in pins})
    return tomlkit.dumps(doc)


# [tool.uv] keys that name dependencies, groups, extras or members the scratch manifest no longer has.
_SCRATCH_DROPPED = (
    "override-dependencies", "constraint-dependencies", "build-constraint-dependencies", "dev-dependencies",
    "default-groups", "dependency-groups", "conflicts", "workspace",
)  # fmt: skip


def _keep_sources(uv: Any, names: Collection[str]) -> None:
    """Only the requested packages' sources, without the entries that apply to an extra or a group."""
    sources = uv.get("sources")
    if sources is None:
        return
    for name in list(sources):
        entries = sources[name]
        listed = entries if isinstance(entries, list) else [entries]
        kept = [e for e in listed if not (isinstance(e, dict) and ("extra" in e or "group" in e))]
        if canonicalize_name(name) not in {canonicalize_name(n) for n in names} or not kept:
            del sources[name]
        elif len(kept) != len(listed):
            sources[name] = kept if len(kept) > 1 else kept[0]
    if not sources:
        del uv["sources"]


def _key(version: str) -> Version:
    try:
        return Version(version)
    except InvalidVersion:
        return Version("0")


def _blocking(
    manifests: Collection[Manifest], protected: Collection[str], resolved: Mapping[str, tuple[str, ...]]
) -> dict[str, list[Declaration]]:
    """Our own declarations (in any of the unit's manifests) that exclude what resolved once they
    were relaxed, by package."""
    found: dict[str, list[Declaration]] = {}
    names = set().union(*(manifest.declared_names() for manifest in manifests)) - set(protected)
    for name in sorted(names):
        versions = resolved.get(name, ())
        for declaration in (d for manifest in manifests for d in manifest.declarations(name)):
            if declaration.url or not declaration.specifier or not versions:
                continue
            if not all(admits(declaration.specifier, v) for v in versions):
                found.setdefault(name, []).append(declaration)
    return found


@dataclass(frozen=True)
class _Cited:
    requirements: tuple[Requires, ...]
    own: bool = False  # see PinMove.own


def _cited(found: Collection[Clause], name: str) -> _Cited:
    """The requirements upstream packages put on `name`; where none does (the request, or another
    move, rules out the pinned version), the pinned version's own requirement that clashes, with the
    other packages' requirements on the same package it clashes with."""
    on = tuple(c.requires for c in requirers(found, name))
    if on:
        return _Cited(on)
    own = [c for c in found if c.who == name]
    others = [c.requires for o in own for c in requirers(found, o.package) if c.who != name]
    return _Cited(tuple(dict.fromkeys([*(c.requires for c in own), *others])), own=bool(own))


async def _requirements(trial: Scratch, problem: LockProblem, blocking: Collection[str]) -> dict[str, _Cited]:
    """Each blocking package that must move, with the upstream requirements on it.

    uv explains one incompatibility per failure, so a package the failure does not name is tried on
    its own: its pin as written, every other pin relaxed. If that resolves, the pin need not move.
    """
    known = clauses(problem.failure, roots=problem.roots)
    found: dict[str, _Cited] = {}
    for name in blocking:
        cited = _cited(known, name)
        if not cited.requirements:
            attempt = await _trial(trial, problem, partial(_relaxed, protected=problem.protected | {name}))
            if attempt.returncode == 0:
                continue
            cited = _cited(clauses(attempt.output, roots=problem.roots), name)
        found[name] = cited
    # Pins that block only together (either could move): move them all, as the relaxed trial did.
    return found or {name: _Cited(()) for name in blocking}


async def _least(
    trial: Scratch, problem: LockProblem, moving: Collection[str], resolved: Mapping[str, tuple[str, ...]]
) -> dict[str, str]:
    """The least version of each moving package, not below what the lock held, that resolves with
    every other package where the relaxed resolution put it (uv's `lowest-direct` strategy)."""
    sourced = {name for m in problem.manifests for name in m.declared_names() if m.source_of(name)}

    def specifier_for(name: str, spec: str) -> str | None:
        if name in problem.protected or name in sourced:
            return None
        if name in moving:
            floor = min(problem.locked.get(name, ()), key=_key, default=None)
            return f">={_key(floor).public}" if floor else ""
        versions = resolved.get(name, ())
        return f"=={versions[0]}" if len(versions) == 1 else None

    attempt = await _trial(trial, problem, lambda m: _edited(m, specifier_for), resolution="lowest-direct")
    if attempt.returncode != 0:
        return {}
    found = trial.versions()
    return {name: found[name][0] for name in moving if len(found.get(name, ())) == 1}


async def _moves(
    trial: Scratch, problem: LockProblem, resolved: Mapping[str, tuple[str, ...]]
) -> tuple[PinMove, ...]:
    blocking = _blocking(problem.manifests, problem.protected, resolved)
    if not blocking:
        return ()
    needs = await _requirements(trial, problem, list(blocking))
    least = await _least(trial, problem, list(needs), resolved) if problem.resolve == "least" else {}
    moves = []
    for name, cited in needs.items():
        newest = max(resolved[name], key=_key)
        version = least.get(name, newest)
        for declaration in blocking[name]:
            written = split_specifier(declaration.requirement)[1]
            new_spec = bump_specifier(written, version)
            if new_spec and new_spec != written:
                moved = (written, new_spec, version, newest, name in least)
                moves.append(PinMove(declaration, name, *moved, cited.requirements, cited.own))
    return tuple(moves)


async def _unavailable(trial: Scratch, problem: LockProblem, together: str) -> str | None:
    """uv's output for a requested pin that does not lock even alone; None when each does, and the
    requested pins only clash with one another (`together` failed)."""
    if len(problem.pins) < 2:
        return together
    for pin in problem.pins:
        attempt = await _trial(trial, problem, partial(_only_requested, pins=[pin]), pins=[pin])
        if attempt.returncode != 0:
            return attempt.output
    return None


async def diagnose(repo: Path, problem: LockProblem, *, locker: Locker) -> Diagnosis:
    """Why the variant did not lock: only our pins (and how to move them), upstream, or unavailable."""
    if "No solution found" not in problem.failure:
        # Not a resolution at all (a git source, a build, the network): no trial would tell more.
        return Diagnosis("failed", (), lock_error(problem.failure), problem.failure)
    with scratch_copy(repo, problem.variant, locker=locker, pins=problem.pins) as trial:
        relaxed = await _trial(trial, problem, lambda m: _relaxed(m, problem.protected))
        if relaxed.returncode == 0:
            moves = await _moves(trial, problem, trial.versions())
            if moves:
                return Diagnosis("own-pins", moves, explain(problem.failure, problem.roots))
        alone = await _trial(trial, problem, lambda m: _only_requested(m, problem.pins))
        if alone.returncode != 0:
            unavailable = await _unavailable(trial, problem, alone.output)
            if unavailable is not None:
                return Diagnosis("unavailable", (), explain(unavailable, problem.roots), unavailable)
            relaxed = alone  # each requested pin locks alone: they clash with each other
    # With our pins relaxed, what still fails is the upstream packages' own clash.
    clash = relaxed.output if relaxed.returncode != 0 else problem.failure
    return Diagnosis("upstream", (), explain(clash, problem.roots), clash)
