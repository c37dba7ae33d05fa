"""Classifies a failed lock by trying: relax our own pins in a scratch copy and see what resolves."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import tomlkit

from bot.files import repofiles
from bot.files.lockfile import read_lock
from bot.files.manifest import Manifest
from bot.files.specifiers import admits, bump_specifier
from bot.model import Declaration, Variant
from bot.tools.uv import Locker

# A PEP 440 version (wildcards and local labels included) ends in a letter, a digit or `*`: a `.`, `,`
# or `)` after it is the sentence's, never the specifier's. Clauses of a range follow after commas.
_VERSION = r"[A-Za-z0-9*+!_.-]*[A-Za-z0-9*]"
_SPECIFIER = rf"(?:[=<>!~]=?{_VERSION}(?:,[=<>!~]=?{_VERSION})*)?"
_REQUIREMENT = rf"[A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?{_SPECIFIER}"
# Used only to explain, never to decide: uv rewords these between releases.
_DEPENDS = re.compile(
    rf"(?P<all>all versions of )?(?P<who>{_REQUIREMENT}) depends? on (?P<what>{_REQUIREMENT})"
)
_IGNORED = ("__pycache__", ".venv", "node_modules", ".git", ".mypy_cache", ".ruff_cache", ".pytest_cache")


@dataclass(frozen=True)
class PinMove:
    """One of our declarations that blocked the resolution, and the specifier that unblocks it."""

    declaration: Declaration
    package: str
    new_specifier: str
    resolved: str


@dataclass(frozen=True)
class Diagnosis:
    kind: Literal["own-pins", "upstream", "unavailable"]
    moves: tuple[PinMove, ...]
    explanation: str


def explain(output: str) -> str:
    """The resolver's "X depends on Y" clauses, or its first error line, as one sentence."""
    clauses = []
    for match in _DEPENDS.finditer(output):
        who, what = match.group("who"), match.group("what")
        if who == "project":  # "your project depends on ...": our own request, not an upstream one
            continue
        clause = f"{'every version of ' if match.group('all') else ''}{who} requires {what}"
        if clause not in clauses:
            clauses.append(clause)
    if clauses:
        return "; ".join(clauses)
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


def _relaxed(manifest: Manifest, protected: Collection[str]) -> str:
    """The manifest with every version specifier we wrote ourselves removed, except `protected` ones."""
    text = manifest.text
    for name in sorted(manifest.declared_names() - set(protected)):
        current = Manifest(text, display=manifest.display)
        text, _ = current.rewrite(name, lambda spec: "" if spec else None)
    return text


def _only_requested(manifest: Manifest, pins: Collection[str]) -> str:
    """A manifest that asks for nothing but the requested pins, with the same index settings."""
    doc = tomlkit.parse(manifest.text)
    project = doc.setdefault("project", tomlkit.table())
    project["dependencies"] = sorted(pins)
    for key in ("optional-dependencies",):
        project.pop(key, None)
    doc.pop("dependency-groups", None)
    uv = doc.get("tool", {}).get("uv")
    if uv is not None:
        for key in ("override-dependencies", "constraint-dependencies", "dev-dependencies"):
            uv.pop(key, None)
    return tomlkit.dumps(doc)


def _own_pin_moves(
    manifest: Manifest, protected: Collection[str], resolved: Mapping[str, tuple[str, ...]]
) -> tuple[PinMove, ...]:
    """Each of our own pins that excludes what resolved once they were relaxed, moved to admit it."""
    moves = []
    for name in sorted(manifest.declared_names() - set(protected)):
        versions = resolved.get(name, ())
        for declaration in manifest.declarations(name):
            if declaration.url or not declaration.specifier or not versions:
                continue
            if not all(admits(declaration.specifier, v) for v in versions):
                target = max(versions, key=lambda v: tuple(int(p) for p in re.findall(r"\d+", v)))
                new_spec = bump_specifier(declaration.specifier, target)
                if new_spec:
                    moves.append(PinMove(declaration, name, new_spec, target))
    return tuple(moves)


# PLR0913: one failed lock (variant, manifest, uv's message), the pins asked for and kept, and the locker.
async def diagnose(  # noqa: PLR0913
    repo: Path, variant: Variant, manifest: Manifest, *, pins: Collection[str], protected: Collection[str],
    failure: str, locker: Locker,
) -> Diagnosis:  # fmt: skip
    """Why `variant` did not lock: only our pins (and how to move them), upstream, or unavailable."""
    with tempfile.TemporaryDirectory(prefix="upgrade-deps-scratch-") as tmp:
        scratch = Path(tmp) / "repo"
        shutil.copytree(repo, scratch, ignore=shutil.ignore_patterns(*_IGNORED), symlinks=True)
        repofiles.write_text(scratch, variant.manifest, _relaxed(manifest, protected))
        trial = await locker.lock(variant, pins=list(pins), root=scratch)
        if trial.returncode == 0:
            moves = _own_pin_moves(manifest, protected, read_lock(scratch, variant.lock).versions())
            if moves:
                return Diagnosis("own-pins", moves, explain(failure))
        repofiles.write_text(scratch, variant.manifest, _only_requested(manifest, pins))
        alone = await locker.lock(variant, pins=list(pins), root=scratch)
        if alone.returncode != 0:
            return Diagnosis("unavailable", (), explain(alone.output))
    return Diagnosis("upstream", (), explain(failure))
