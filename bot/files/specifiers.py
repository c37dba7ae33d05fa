"""Moves a version specifier to a new version in the style it was written (pure text edit)."""

from __future__ import annotations

import re

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

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
