"""Derives what a dependency bot's pull request upgrades: its config, then its manifest and lock diff."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from bot.errors import BadArgumentsError, UpgradeDepsError
from bot.files.config import CONFIG_PATH as CONFIG_PATH  # the service asks GitHub for it by this name
from bot.files.config import load_config, parse_config
from bot.files.lockfile import parse_lock
from bot.files.manifest import Manifest
from bot.files.units import discover_units
from bot.model import Request, Variant
from bot.pipeline.request import parse_request

# The text of a file on one side of the pull request ("base" or "head"); None when it is absent there.
FileAt = Callable[[str, str], Awaitable[str | None]]

# `==X` or `>=X` (optionally followed by an upper bound): the version the bot moved the pin to.
_FLOOR = re.compile(r"(?:===?|>=|~=)\s*([0-9][^,;\s]*)")


@dataclass(frozen=True)
class VariantFiles:
    """One unit's manifest and lock text at a commit (None when the file is absent), and its
    workspace members' manifests by path."""

    manifest: str | None
    lock: str | None
    members: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Derived:
    """What a bot's pull request upgrades: a request, nothing we track (both None), or why we cannot tell."""

    request: Request | None = None
    problem: str | None = None


def _pins(text: str | None, display: str) -> dict[str, str]:
    """{package: version the specifier pins or starts at} for every declaration with one."""
    if text is None:
        return {}
    manifest = Manifest(text, display=display)
    out: dict[str, str] = {}
    for name in sorted(manifest.declared_names()):
        for declaration in manifest.declarations(name):
            match = _FLOOR.search(declaration.specifier)
            if match:
                out[name] = match.group(1)
    return out


def _locked(text: str | None, display: str) -> dict[str, tuple[str, ...]]:
    return {} if text is None else parse_lock(text, display=display).versions()


def _each(v: Variant, files: VariantFiles) -> dict[str, dict[str, str]]:
    """Manifest path -> its pins, for the unit's own manifest and every member's."""
    texts = {v.manifest: files.manifest, **files.members}
    return {path: _pins(text, path) for path, text in texts.items()}


def _direct(v: Variant, files: VariantFiles) -> set[str]:
    texts = [(v.manifest, files.manifest), *files.members.items()]
    return {
        n
        for path, text in texts
        if text is not None
        for n in Manifest(text, display=path).direct_dependencies()
    }


def derive_request(
    variants: Sequence[Variant], base: Mapping[str, VariantFiles], head: Mapping[str, VariantFiles]
) -> tuple[str, ...]:
    """`pkg==version[@variant]` words for what the pull request upgraded, in a stable order.

    A pin the PR moved counts first (in any manifest of a unit, a workspace member's included); then
    a direct dependency whose locked version the PR changed (a lock-only update). A package pinned
    differently per variant on purpose (different pins at the base) is only moved where the PR moved
    it; one whose pins agree is moved in every variant that declares it, per variant when the locks
    now disagree (so each gets the same version), and in every member of a workspace that declares it.
    """
    base_each = {v.name: _each(v, base[v.name]) for v in variants}
    head_each = {v.name: _each(v, head[v.name]) for v in variants}
    head_locks = {v.name: _locked(head[v.name].lock, v.lock) for v in variants}
    direct = {v.name: _direct(v, head[v.name]) for v in variants}
    moved: dict[str, dict[str, str]] = {}  # package -> {variant: version}
    members_moved: dict[str, dict[str, str]] = {}  # package -> {member directory: version}
    for v in variants:
        for path, pins in head_each[v.name].items():
            for name, version in pins.items():
                if base_each[v.name].get(path, {}).get(name) != version:
                    moved.setdefault(name, {})[v.name] = version
                    if path != v.manifest:
                        members_moved.setdefault(name, {})[str(PurePosixPath(path).parent)] = version
        old = _locked(base[v.name].lock, v.lock)
        for name in sorted(direct[v.name]):
            new = head_locks[v.name].get(name)
            if new and old.get(name) != new and len(new) == 1 and v.name not in moved.get(name, {}):
                moved.setdefault(name, {})[v.name] = new[0]
    words: list[str] = []
    for name in sorted(moved):
        declared = [v.name for v in variants if name in direct[v.name]]
        within = {v: {p[name] for p in base_each[v].values() if name in p} for v in declared}
        if any(len(found) > 1 for found in within.values()):  # members pin it apart on purpose
            chosen = sorted(members_moved.get(name, {}).items())
            words += [f"{name}=={version}@{member}" for member, version in chosen]
            continue
        floors = {next(iter(within[v]), None) for v in declared}
        locked = {head_locks[v].get(name) for v in declared}
        shared = any(sum(name in p for p in head_each[v].values()) > 1 for v in declared)
        words += _words_for(name, moved[name], declared, pins=floors, locked=locked, members=shared)
    return tuple(words)


def _words_for(
    name: str,
    moved: Mapping[str, str],
    declared: Sequence[str],
    *,
    pins: set[str | None],
    locked: set[tuple[str, ...] | None],
    members: bool = False,
) -> list[str]:
    """The words for one package the PR moved (`moved`: variant -> version), declared in `declared`;
    `pins` are its specifiers at the base, `locked` its versions in the PR's locks; `members`: several
    manifests of one unit declare it, so each unit is named (the PR may have moved only one of them)."""
    versions = set(moved.values())
    if len(pins) > 1 or len(versions) > 1:  # divergent on purpose, or moved apart by the PR
        return [f"{name}=={moved[v]}@{v}" for v in declared if v in moved]
    (version,) = versions
    if len(locked) > 1 or members:
        return [f"{name}=={version}@{v}" for v in declared]
    return [f"{name}=={version}"]


def safe_derive(
    variants: Sequence[Variant], base: Mapping[str, VariantFiles], head: Mapping[str, VariantFiles]
) -> tuple[tuple[str, ...], str | None]:
    """derive_request, with a corrupt manifest or lock turned into a message instead of an exception."""
    try:
        return derive_request(variants, base, head), None
    except UpgradeDepsError as exc:
        return (), str(exc)


def derived(
    variants: Sequence[Variant], base: Mapping[str, VariantFiles], head: Mapping[str, VariantFiles]
) -> Derived:
    """The request the pull request's files give, parsed as a command's words are."""
    words, problem = safe_derive(variants, base, head)
    if problem is not None or not words:
        return Derived(problem=problem)
    try:
        return Derived(parse_request(words))
    except BadArgumentsError as exc:
        return Derived(problem=str(exc))


async def derive_pull(head: Path, *, author: str, file_at: FileAt) -> Derived | None:
    """What a pull request by `author` upgrades, read from the files of both sides.

    `head` is a work tree of the pull request's head: its config names the variants and the bots.
    None when that config does not name `author` as a bot (the pull request is a person's).
    """
    try:
        config = load_config(head)
        variants = discover_units(head, config)
    except UpgradeDepsError as exc:
        return Derived(problem=str(exc))
    if author not in config.bots:
        return None
    sides: dict[str, dict[str, VariantFiles]] = {"base": {}, "head": {}}
    for v in variants:
        for side, files in sides.items():
            members = {path: await file_at(side, path) for path in v.members}
            files[v.name] = VariantFiles(
                await file_at(side, v.manifest), await file_at(side, v.lock), members
            )
    return derived(variants, sides["base"], sides["head"])


def config_names_bot(text: str | None, author: str) -> bool:
    """Whether a config text (`CONFIG_PATH`'s, None when absent) lists `author` among `[bots].authors`.

    A config that does not parse names no one: the job on the bot's own pull request reports it.
    """
    if text is None:
        return False
    try:
        config = parse_config(tomllib.loads(text), display=CONFIG_PATH)
    except (tomllib.TOMLDecodeError, UpgradeDepsError):
        return False
    return author in config.bots
