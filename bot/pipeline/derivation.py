"""Reads who requires what from uv's account of a failed resolution (pure; it explains, never decides)."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from bot.model import Requires

# uv 0.13 writes its derivation as "Because A depends on B and C depends on D, we can conclude that
# ...". The wording may change between uv releases: what is read here only explains a failure that
# trying has already classified.
_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?(?::[A-Za-z0-9._-]+)?(?:\{[^}]*\})?"
_OP = r"(?:===|==|!=|<=|>=|~=|<|>)"
# A PEP 440 version (wildcards and local labels included) ends in a letter, a digit or `*`: a `.`, `,`
# `:` or `)` after it is the sentence's, never the specifier's. Clauses of a range follow after commas.
_VERSION = r"[A-Za-z0-9*+!_.-]*[A-Za-z0-9*]"
_REQUIREMENT = rf"{_NAME}(?:{_OP}{_VERSION}(?:,{_OP}{_VERSION})*)?"
_CLAUSE = re.compile(
    rf"(?P<derived>we can conclude that )?(?P<every>all versions of )?(?P<who>your project|{_REQUIREMENT})"
    rf" depends? on (?:one of: (?P<alternatives>(?:{_REQUIREMENT} )+?)(?=and |we |$)"
    rf"|(?P<what>{_REQUIREMENT}))"
)
_HEAD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class Clause:
    """One requirement the resolver names: `who` (an upstream package) requires `requires.requirement`."""

    requires: Requires
    who: str  # canonical name of the package that requires
    package: str  # canonical name of the package required
    derived: bool  # the resolver concluded it through other packages


def _name(text: str) -> str:
    found = _HEAD.match(text)
    return canonicalize_name(found.group(0)) if found else ""


def clauses(output: str, *, roots: Collection[str]) -> tuple[Clause, ...]:
    """Every "X depends on Y" of `output` whose X is an upstream package, not the repository's own
    project (`your project`, its name, `name[extra]`, `name:group`, a workspace member)."""
    text = " ".join(output.split())
    own = {canonicalize_name(root) for root in roots}
    found: dict[tuple[str, str], Clause] = {}
    for match in _CLAUSE.finditer(text):
        who = match.group("who")
        if who == "your project" or _name(who) in own:
            continue
        alternatives = match.group("alternatives")
        what = " or ".join(alternatives.split()) if alternatives else match.group("what")
        clause = Clause(
            Requires(who, what, every=bool(match.group("every"))), _name(who), _name(what),
            derived=bool(match.group("derived")),
        )  # fmt: skip
        key = (who, what)
        if key not in found or found[key].derived:
            found[key] = clause
    return tuple(found.values())


def requirers(found: Collection[Clause], package: str) -> tuple[Clause, ...]:
    """The clauses requiring `package`; one the resolver only concluded is left out when another
    package states the same requirement itself."""
    on = [c for c in found if c.package == package]
    direct = {c.requires.requirement for c in on if not c.derived}
    return tuple(c for c in on if not c.derived or c.requires.requirement not in direct)


def contested(found: Collection[Clause], requested: Collection[str]) -> tuple[str, ...]:
    """The packages the clash is about: required differently by two upstream packages; else a
    requested package an upstream package requires otherwise."""
    packages = list(dict.fromkeys(c.package for c in found))
    clashing = [
        p for p in packages
        if len({c.requires.requirement for c in requirers(found, p)}) > 1
        and len({c.who for c in requirers(found, p)}) > 1
    ]  # fmt: skip
    if clashing:
        return tuple(clashing)
    wanted = {canonicalize_name(name) for name in requested}
    return tuple(p for p in packages if p in wanted)
