"""Labels a dependency bot's pull request from its title and body (pure; never decides the upgrade)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Renovate's table row: | [name](link) ... | ... | `old` -> `new` | (or a plain name; arrow may be →).
_RENOVATE_ROW = re.compile(
    r"^\|\s*(?:\[(?P<linked>[^\]]+)\]\([^)]*\)[^|]*|(?P<plain>[^|\s][^|]*?)\s*)(?P<rest>\|.*)$"
)
_CHANGE = re.compile(r"`(?P<old>[^`]+)`\s*(?:->|→)\s*`(?P<new>[^`]+)`")
# Dependabot: "Updates `name` from old to new" in the body, "Bump name from old to new" in the title.
_DEPENDABOT_BODY = re.compile(
    r"^Updates `(?P<name>[^`]+)` from (?P<old>\S+) to (?P<new>\S+?)\.?$", re.MULTILINE
)
_DEPENDABOT_TITLE = re.compile(r"\b[Bb]ump (?P<name>\S+) from (?P<old>\S+) to (?P<new>\S+)")
_RENOVATE_TITLE = re.compile(r"\b[Uu]pdate dependency (?P<name>\S+) to v?(?P<new>\S+)")
_OPERATOR = re.compile(r"^(?:===|==|~=|>=|<=|\^|~)\s*")


@dataclass(frozen=True)
class LabelledUpdate:
    package: str
    old: str | None
    new: str


def _version(text: str) -> str:
    return _OPERATOR.sub("", text.strip())


def label(title: str, body: str) -> tuple[LabelledUpdate, ...]:
    """What the PR's own text says it updates, in the order it says it; empty when it does not say."""
    found: list[LabelledUpdate] = []
    for line in body.splitlines():
        row = _RENOVATE_ROW.match(line.strip())
        if row:
            change = _CHANGE.search(row.group("rest"))
            if change:
                name = row.group("linked") or row.group("plain")
                found.append(LabelledUpdate(name, _version(change["old"]), _version(change["new"])))
    if found:
        return tuple(found)
    found = [LabelledUpdate(m["name"], m["old"], m["new"]) for m in _DEPENDABOT_BODY.finditer(body)]
    if found:
        return tuple(found)
    title_match = _DEPENDABOT_TITLE.search(title)
    if title_match:
        return (LabelledUpdate(title_match["name"], title_match["old"], title_match["new"]),)
    renovate = _RENOVATE_TITLE.search(title)
    if renovate:
        return (LabelledUpdate(renovate["name"], None, renovate["new"]),)
    return ()
