"""Moves a version specifier to a new version in the style it was written (pure text edit)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import InvalidVersion, Version

_CLAUSE = re.compile(r"^(\s*)(===|==|~=|!=|<=|>=|<|>)(\s*)([^\s,]+)(\s*)$")


def next_major(version: Version) -> str:
    """The first release of the next major: the cap of a `>=X,<next` range."""
    return str(version.release[0] + 1)


def bump_specifier(spec: str, version: str) -> str | None:
    """`spec` moved to admit exactly the intent of `version`, keeping operators and spacing.

    `==old` becomes `==new`; a lower bound moves up to the new version; an upper bound that would
    exclude it moves up (`<` to the next major, `<=` to the version); an exclusion of the new version
    is dropped. Returns None when there is nothing to edit (no specifier) or the text is not a
    specifier we understand.
    """
    if not spec.strip():
        return None
    try:
        SpecifierSet(spec)
    except InvalidSpecifier:
        return None
    new = Version(version)
    public = new.public  # local labels (+cu129) are only allowed with == and !=
    clauses = []
    for raw in spec.split(","):
        match = _CLAUSE.match(raw)
        if not match:
            return None
        lead, op, gap, old, trail = match.groups()
        if op in ("==", "==="):
            old = f"{new.major}.{new.minor}.*" if old.endswith(".*") else version
        elif op in (">=", ">", "~="):
            op = ">=" if op == ">" else op
            old = public
        elif op in ("<", "<="):
            if not SpecifierSet(f"{op}{old}").contains(new, prereleases=True):
                old = next_major(new) if op == "<" else public
        elif op == "!=" and SpecifierSet(f"!={old}").contains(new, prereleases=True) is False:
            continue
        clauses.append(f"{lead}{op}{gap}{old}{trail}")
    return ",".join(clauses)


def admits(spec: str, version: str) -> bool:
    """Whether a specifier text admits `version` (pre-releases count as named)."""
    try:
        return SpecifierSet(spec).contains(Version(version), prereleases=True)
    except InvalidSpecifier:
        return False


def _strongest(specifiers: list[Specifier], *, lower: bool) -> list[Specifier]:
    """Of several lower (or upper) bounds, the one that implies the others."""
    if not specifiers:
        return []

    def key(spec: Specifier) -> tuple[Version, int]:
        strict = spec.operator in (">", "<")
        # At the same version, `>` is stronger than `>=` and `<` stronger than `<=`.
        return Version(spec.version), (1 if strict else 0) if lower else (0 if strict else 1)

    return [max(specifiers, key=key) if lower else min(specifiers, key=key)]


def allowed(specifiers: Iterable[str]) -> frozenset[Specifier] | None:
    """What the conjunction of `specifiers` allows, written once: redundant clauses dropped.

    `==2.1.0` twice, `==2.1.0` with `<3`, and `>=2` with `>=2.1` each reduce to the clause that
    implies the rest, so two declarations that allow the same versions compare equal however often
    and in whichever sections they are written (`>=2.0` and `>=2` are one clause: packaging compares
    specifiers in canonical form). None when a text is not a specifier.
    """
    try:
        combined = SpecifierSet(",".join(s for s in specifiers if s.strip()))
    except InvalidSpecifier:
        return None
    specs = list(combined)
    exact = [s for s in specs if s.operator == "==" and not s.version.endswith(".*")]
    for spec in exact:
        version = Version(spec.version)
        if all(other.contains(version, prereleases=True) for other in specs):
            return frozenset({Specifier(f"=={version}")})
    try:
        lower = _strongest([s for s in specs if s.operator in (">=", ">")], lower=True)
        upper = _strongest([s for s in specs if s.operator in ("<", "<=")], lower=False)
    except InvalidVersion:
        return frozenset(specs)
    rest = [s for s in specs if s.operator not in (">=", ">", "<", "<=")]
    return frozenset((*lower, *upper, *rest))
