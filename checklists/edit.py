"""Edits a checklist line by line (rows, catalog entries, numbering), keeping every other line intact."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from checklists.document import TIERS, Checklist, cells

_TIER_TITLES = {
    "primary": "Primary (most likely to break)",
    "secondary": "Secondary",
    "tertiary": "Tertiary (tests, infra)",
}


@dataclass(frozen=True)
class NewRow:
    tier: str
    file: str
    usage: str


@dataclass(frozen=True)
class NewEntry:
    symbol: str
    file: str
    line: int
    snippet: str


def _newline(checklist: Checklist) -> str:
    return "\r\n" if checklist.lines and checklist.lines[0].endswith("\r\n") else "\n"


def _section_end(lines: Sequence[str], start: int, *, level: str) -> int:
    """Index of the first heading at `level` or above after `start` (the end of that section)."""
    stops = ("# ", "## ") if level == "##" else ("# ", "## ", "### ")
    in_fence = False
    for index in range(start + 1, len(lines)):
        stripped = lines[index].strip()
        if stripped.startswith("```"):
            in_fence = not in_fence
        if not in_fence and stripped.startswith(stops):
            return index
    return len(lines)


def _row_line(file: str, usage: str, nl: str) -> str:
    escaped = usage.replace("|", "\\|")
    return f"| `{file}` | {escaped} |{nl}"


Inserts = dict[int, list[str]]  # line index -> lines to insert before it
Replace = dict[int, str | None]  # line index -> its new text, None to drop it


def apply_edits(
    checklist: Checklist,
    *,
    add: Sequence[NewRow] = (),
    remove: frozenset[str] = frozenset(),
    usage: Mapping[str, str] | None = None,
    entries: Sequence[NewEntry] = (),
) -> str:
    """The checklist text with the edits applied; every other line is kept byte for byte."""
    nl = _newline(checklist)
    lines = list(checklist.lines)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += nl
    inserts: Inserts = {}
    replace: Replace = {}
    for row in checklist.rows:
        if row.file in remove:
            replace[row.index] = None
        elif usage and row.file in usage:
            row_cells = cells(lines[row.index])
            row_cells[1:2] = [usage[row.file].replace("|", "\\|")]
            replace[row.index] = "| " + " | ".join(row_cells) + " |" + nl
    _add_rows(checklist, lines, add, nl, inserts)
    _edit_catalog(checklist, lines, entries, nl, (inserts, replace))
    out: list[str] = []
    for index in range(len(lines) + 1):
        out.extend(inserts.get(index, []))
        if index < len(lines):
            value = replace.get(index, lines[index])
            if value is not None:
                out.append(value)
    return "".join(out)


def _add_rows(
    checklist: Checklist, lines: list[str], add: Sequence[NewRow], nl: str, inserts: Inserts
) -> None:
    """New rows go after their tier's last row, else into its table, else into a new tier section."""
    affected = checklist.sections.get("Affected Files")
    for tier in TIERS:
        new_rows = [_row_line(r.file, r.usage, nl) for r in add if r.tier == tier]
        if not new_rows:
            continue
        existing = [r.index for r in checklist.rows if r.tier == tier]
        heading = checklist.tier_headings.get(tier)
        if existing:
            inserts.setdefault(max(existing) + 1, []).extend(new_rows)
            continue
        table = [f"| File | Imports / Usage |{nl}", f"| ---- | --------------- |{nl}"]
        if heading is not None:
            end = _section_end(lines, heading, level="###")
            separator = next(
                (
                    i
                    for i in range(heading + 1, end)
                    if set(lines[i].strip()) <= set("|-: ") and "-" in lines[i]
                ),
                None,
            )
            if separator is not None:
                inserts.setdefault(separator + 1, []).extend(new_rows)
            else:
                inserts.setdefault(heading + 1, []).extend([nl, *table, *new_rows])
            continue
        block = [f"### {_TIER_TITLES[tier]}{nl}", nl, *table, *new_rows, nl]
        if affected is not None:
            at = _section_end(lines, affected, level="##")
            inserts.setdefault(at, []).extend(block)
        else:
            inserts.setdefault(len(lines), []).extend([nl, f"## Affected Files{nl}", nl, *block])
            affected = len(lines)


def _edit_catalog(
    checklist: Checklist,
    lines: list[str],
    entries: Sequence[NewEntry],
    nl: str,
    edits: tuple[Inserts, Replace],
) -> None:
    """Renumber the catalog's entries past dropped ones, and append an entry for each new symbol."""
    inserts, replace = edits
    catalog = checklist.sections.get("API Usage Catalog")
    if catalog is None:
        return
    number = 0
    for entry in checklist.entries:
        number += 1
        if entry.number != number and replace.get(entry.index, "") is not None:
            replace[entry.index] = f"### {number}. {entry.title}{nl}"
    if not entries:
        return
    entry_block: list[str] = []
    for new in entries:
        number += 1
        entry_block += [
            f"### {number}. `{new.symbol}`{nl}",
            nl,
            f"**Source:** _to be filled in_{nl}",
            nl,
            f"Called in `{new.file}:{new.line}`:{nl}",
            nl,
            f"```python{nl}",
            f"{new.snippet}{nl}",
            f"```{nl}",
            nl,
            f"**Check:** signature of `{new.symbol}` at the target version.{nl}",
            nl,
        ]
    inserts.setdefault(_section_end(lines, catalog, level="##"), []).extend(entry_block)
