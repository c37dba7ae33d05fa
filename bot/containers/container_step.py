"""Step 4: reads the container files, checks new tags in their registries, writes only verified edits."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from bot.containers import planning as containers
from bot.errors import RegistryError
from bot.files import repofiles
from bot.files.config import Config, ContainerRule
from bot.model import ContainerChange, Request, Unresolved, VersionChange
from bot.text.render import render
from bot.text.wording import say

if TYPE_CHECKING:
    from bot.containers.registry import RegistryClient

_SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".tox"}


@dataclass(frozen=True)
class TagState:
    """What the registry said of one tag: its state, the digest when it exists, the reason otherwise."""

    state: Literal["exists", "missing", "error", "not-asked"]
    digest: str = ""
    reason: str = ""


@dataclass(frozen=True)
class ContainerOutcome:
    """What step 4 did: every written, deferred and proposed reference, and what needs a person."""

    changes: tuple[ContainerChange, ...] = ()
    unresolved: tuple[Unresolved, ...] = ()
    files: tuple[str, ...] = ()  # the files written, in order

    def commit_message(self) -> str:
        """The message of the commit holding the written files."""
        written = [c for c in self.changes if c.status == "written"]
        deferred = [c for c in self.changes if c.status == "deferred"]
        packages = sorted({c.package for c in written})
        return render("commit-containers.txt.j2", packages=packages, written=written, deferred=deferred)


def _read(repo: Path, relative: str) -> str | None:
    """The file's text with its line endings as they are; None when it is not UTF-8 text."""
    try:
        return repofiles.read_text(repo, relative)
    except UnicodeDecodeError:
        return None


def _texts(repo: Path, files: Iterator[str] | list[str], unresolved: list[Unresolved]) -> dict[str, str]:
    texts = {}
    for file in files:
        text = _read(repo, file)
        if text is None:
            unresolved.append(Unresolved("container", say("containers", "not_text"), file, blocking=False))
        else:
            texts[file] = text
    return texts


def rule_files(repo: Path, rule: ContainerRule) -> list[str]:
    """The repository files the rule's globs match (inside the repository only)."""
    root = repo.resolve()
    found: set[str] = set()
    for pattern in rule.files:
        if pattern.startswith("/") or ".." in Path(pattern).parts:
            continue
        for path in repo.glob(pattern):
            if path.is_file() and path.resolve().is_relative_to(root):
                found.add(path.relative_to(repo).as_posix())
    return sorted(found)


def dockerfiles(repo: Path) -> Iterator[str]:
    """Every Dockerfile of the repository (`Dockerfile`, `Dockerfile.x`, `x.Dockerfile`)."""
    for directory, subdirs, names in os.walk(repo):
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIP_DIRS)  # pruned, never walked
        for name in sorted(names):
            lower = name.lower()
            path = Path(directory) / name
            if (lower.startswith("dockerfile") or lower.endswith(".dockerfile")) and path.is_file():
                yield path.relative_to(repo).as_posix()


async def _check(registry: RegistryClient, image: str, tag: str) -> TagState:
    from bot.containers.registry import parse_image  # aiohttp, only when a registry is asked

    try:
        digest = await registry.manifest_digest(parse_image(image, tag))
    except RegistryError as exc:
        return TagState("error", reason=str(exc))
    return TagState("missing") if digest is None else TagState("exists", digest=digest)


async def _check_image(
    registry: RegistryClient, image: str, tags: set[str]
) -> dict[tuple[str | None, str | None], TagState]:
    """One image's tags one after another, so its anonymous token is fetched once; images in parallel."""
    return {(image, tag): await _check(registry, image, tag) for tag in sorted(tags)}


def _rules(
    repo: Path, config: Config, packages: set[str], unresolved: list[Unresolved]
) -> list[tuple[ContainerRule, dict[str, str]]]:
    """The rules of the changed packages, each with the texts of its files; a rule matching no file
    is reported (not blocking)."""
    rules: list[tuple[ContainerRule, dict[str, str]]] = []
    for rule in config.containers:
        if rule.package not in packages:
            continue
        files = rule_files(repo, rule)
        if not files:
            message = say("containers", "no_files", package=rule.package, globs=list(rule.files))
            where = rule.source or config.source
            item = Unresolved("container", message, where, rule.line, blocking=False, subject=rule.package)
            unresolved.append(item)
        rules.append((rule, _texts(repo, files, unresolved)))
    return rules


async def _check_tags(
    registry: RegistryClient | None, edits: Sequence[containers.Edit]
) -> dict[tuple[str | None, str | None], TagState]:
    """Whether each edit's new tag exists in its registry; without a registry client, not asked."""
    wanted: dict[str, set[str]] = {}
    for edit in edits:
        if edit.image and edit.tag:
            wanted.setdefault(edit.image, set()).add(edit.tag)
    if registry is None:
        reason = say("containers", "not_asked")
        return {
            (image, tag): TagState("not-asked", reason=reason)
            for image, tags in wanted.items()
            for tag in tags
        }
    found = await asyncio.gather(
        *(_check_image(registry, image, tags) for image, tags in sorted(wanted.items()))
    )
    return {key: state for group in found for key, state in group.items()}


async def update_containers(
    repo: Path,
    config: Config,
    changes: Sequence[VersionChange],
    request: Request,
    *,
    registry: RegistryClient | None,
    write: Callable[[str, str], None] | None = None,
) -> ContainerOutcome:
    """Apply the `[[container]]` rules for `changes`, writing only tags that exist in their registry.

    Missing tags and unreachable registries defer the edit (reported, non-blocking); FROM lines of
    packages without a rule are proposed, never written, and marked not verified where the registry
    could not be asked (`registry` None: the repository locks without a network). `write(path,
    text)` writes a file (the pipeline passes its FileTransaction's); without it, files are written
    here and all restored if one write fails.
    """
    unresolved: list[Unresolved] = []
    rules = _rules(repo, config, {change.package for change in changes}, unresolved)
    scanned = _texts(repo, dockerfiles(repo), unresolved)
    plan = containers.plan(rules, scanned, changes, request)
    unresolved += plan.unresolved
    checks = await _check_tags(registry, (*plan.edits, *plan.proposals))
    out: list[ContainerChange] = []
    to_write: list[containers.Edit] = []
    for planned in plan.edits:
        settled, reason = _settle(planned, checks)
        if settled is None:
            continue  # a pinned reference already at the new tag's digest
        if reason:
            out.append(settled.change("deferred", reason))
            message = say("containers", "deferred_item", old=settled.old, new=settled.new, reason=reason)
            unresolved.append(Unresolved("tag-deferred", message, settled.file, settled.line, blocking=False))
        else:
            out.append(settled.change("written"))
            to_write.append(settled)
    for edit in plan.proposals:
        found = checks.get((edit.image, edit.tag), TagState("error"))
        exists = {"exists": "yes", "missing": "no"}.get(found.state, "unknown")
        out.append(edit.change("proposed", say("containers", "proposed", exists=exists, reason=found.reason)))
    texts = {**scanned, **{f: t for _, files in rules for f, t in files.items()}}
    new_texts = _new_texts(to_write, texts)
    if write is None:
        _write(repo, new_texts, texts)
    else:
        for file, text in new_texts.items():
            write(file, text)
    changes_out = tuple(sorted(out, key=lambda c: (c.file, c.line)))
    return ContainerOutcome(changes_out, tuple(unresolved), tuple(new_texts))


def _settle(
    edit: containers.Edit, checks: Mapping[tuple[str | None, str | None], TagState]
) -> tuple[containers.Edit | None, str]:
    """The edit as it will be written (a pinned one with its new digest) and why it is deferred, if
    it is; None when there is nothing to change after all."""
    if edit.image is None or edit.tag is None:
        return edit, ""  # a version mapping, not an image: nothing to look up
    found = checks[(edit.image, edit.tag)]
    if found.state == "missing":
        return edit, say("containers", "tag_not_published", image=edit.image, tag=edit.tag)
    if found.state == "error":
        reason = say(
            "containers", "registry_unreachable", image=edit.image, tag=edit.tag, reason=found.reason
        )
        return edit, reason
    if found.state == "not-asked":
        return edit, found.reason
    if not edit.pinned:
        return edit, ""
    if not found.digest:
        return edit, say("containers", "digest_pinned")
    pinned = replace(edit, new=f"{edit.new}@{found.digest}")
    return (None, "") if pinned.new == edit.old else (pinned, "")


def _new_texts(edits: Sequence[containers.Edit], texts: Mapping[str, str]) -> dict[str, str]:
    by_file: dict[str, list[containers.Edit]] = {}
    for edit in edits:
        by_file.setdefault(edit.file, []).append(edit)
    return {file: containers.apply(texts[file], group) for file, group in by_file.items()}


def _write(repo: Path, new_texts: Mapping[str, str], texts: Mapping[str, str]) -> None:
    """Write every edited file; if one write fails, put back those already written and re-raise."""
    files = list(new_texts)
    done = 0
    try:
        for file in files:
            done += 1
            repofiles.write_text(repo, file, new_texts[file])
    except BaseException:
        for file in files[:done]:  # the one that failed may be half-written: restore it too
            repofiles.write_text(repo, file, texts[file])
        raise
