"""The line ranges a fix changed, as suggested changes on GitHub replace them (pure)."""

from __future__ import annotations

import difflib

from bot.model import Hunk


def hunks(file: str, before: str, after: str) -> list[Hunk]:
    """Each changed run of lines of `before` and what replaces it; an insertion takes the line above
    with it (a suggestion replaces existing lines), or the line below at the top of the file."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        text = "".join(new[j1:j2])
        if i1 == i2 and i1 > 0:
            out.append(Hunk(file, i1, i1, old[i1 - 1] + text))
        elif i1 == i2:
            out.append(Hunk(file, 1, 1, text + (old[0] if old else "")))
        else:
            out.append(Hunk(file, i1 + 1, i2, text))
    return out


def first_changed_line(before: str, after: str) -> int:
    """The first line (1-based) of `before` that `after` does not keep as it was."""
    for number, (a, b) in enumerate(zip(before.splitlines(), after.splitlines(), strict=False), 1):
        if a != b:
            return number
    return min(len(before.splitlines()), len(after.splitlines())) + 1
