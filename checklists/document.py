"""The checklist file format (seed 000): parse into a model and report structural problems with lines."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from bot.model import ChecklistProblem

TIERS = ("primary", "secondary", "tertiary")
FRONT_KEYS = ("package", "github", "branch_template", "upstream_paths")
SECTIONS = ("Affected Files", "API Usage Catalog", "Version-Guarded Code")
_ENTRY = re.compile(r"^###\s+(\d+)\.\s+(.*?)\s*$")
_CALL_SITE = re.compile(r"`([^`\s]+\.py):(\d+)`")
_GUARD = re.compile(r"^[-*]\s+\[`?(?P<file>[^\]`:]+)`?:(?P<line>\d+)\]\s*(?P<text>.*)$")
_SOURCE = re.compile(r"^\*\*Source:\*\*\s*(.*?)\s*$")


@dataclass(frozen=True)
class Row:
    """One row of an Affected Files table, under any tier heading (or none).

    Most rows list one file. A row may instead list files by pattern (`areal/models/*/args.py`,
    a directory such as `tests/`, or several code spans in prose: "30+ files under `tests/` and
    `examples/`"): `patterns` holds them, and `file` is the cell as written. A row of prose
    without a path (`kind` "prose") lists nothing.
    """

    tier: str  # "primary", "secondary", "tertiary", another heading's first word, or "" before any
    file: str
    usage: str
    index: int  # 0-based line index in the file
    kind: Literal["file", "pattern", "prose"] = "file"
    patterns: tuple[str, ...] = ()

    def covers(self, path: str) -> bool:
        """True when this pattern row lists `path` (a directory holds it, or a glob matches it)."""
        return any(
            path.startswith(p) if p.endswith("/") else fnmatch.fnmatchcase(path, p) for p in self.patterns
        )


@dataclass(frozen=True)
class Entry:
    """One numbered API Usage Catalog entry."""

    number: int
    title: str  # the heading text after the number, as written
    symbol: str  # the first code span of the heading, else the heading text
    index: int
    source: str | None
    call_sites: tuple[tuple[str, int], ...]
    also: tuple[str, ...] = ()  # the heading's other code spans, `.run_server` read beside the first's module

    @property
    def symbols(self) -> tuple[str, ...]:
        """Every symbol the heading names (`pkg.mod.build_app` and `.run_server`: both)."""
        return (self.symbol, *self.also)


@dataclass(frozen=True)
class Guarded:
    """One `- [file:line] description` item of the Version-Guarded Code section."""

    file: str
    line: int
    text: str
    index: int


@dataclass(frozen=True)
class Checklist:
    """A parsed checklist; `lines` is the file as it was, so edits keep everything else intact."""

    display: str
    lines: tuple[str, ...]
    front: Mapping[str, Any]
    sections: Mapping[str, int]  # section name -> heading line index
    tier_headings: Mapping[str, int]  # tier -> heading line index
    rows: tuple[Row, ...]
    entries: tuple[Entry, ...]
    problems: tuple[ChecklistProblem, ...]  # structural problems, each with file and line
    guards: tuple[Guarded, ...] = ()

    @property
    def package(self) -> str:
        return str(self.front.get("package", ""))

    @property
    def imports(self) -> tuple[str, ...]:
        value = self.front.get("imports")
        if isinstance(value, str):
            return (value,)
        return tuple(str(v) for v in value) if isinstance(value, list) else ()

    def text(self) -> str:
        return "".join(self.lines)


def cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    return [c.strip() for c in re.split(r"(?<!\\)\|", inner)]


def unquote_path(cell: str) -> str:
    """A file cell without code-span backticks or a trailing `:LINE`."""
    value = cell.strip().strip("`").strip()
    return re.sub(r":\d+$", "", value)


_GLOB = re.compile(r"[*?\[]")


def _row(tier: str, row_cells: Sequence[str], index: int) -> Row:
    """A table row: one file, files by pattern, or prose naming no path."""
    cell, usage = row_cells[0], row_cells[1] if len(row_cells) > 1 else ""
    spans = [unquote_path(span) for span in re.findall(r"`([^`]+)`", cell) if span.strip()]
    single = re.fullmatch(r"`[^`]+`", cell) is not None or ("`" not in cell and " " not in cell)
    if single:
        path = unquote_path(cell)
        if _GLOB.search(path) or path.endswith("/"):
            return Row(tier, path, usage, index, "pattern", (path,))
        return Row(tier, path, usage, index)
    shown = " ".join(cell.split())
    return Row(tier, shown, usage, index, "pattern" if spans else "prose", tuple(spans))


def _front(lines: list[str], display: str, problems: list[ChecklistProblem]) -> tuple[dict[str, Any], int]:
    if not lines or lines[0].strip() != "---":
        problems.append(ChecklistProblem(display, 1, "no YAML front matter (the file must start with '---')"))
        return {}, 0
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        problems.append(ChecklistProblem(display, 1, "front matter is not closed by a '---' line"))
        return {}, 0
    try:
        data = yaml.safe_load("".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problems.append(
            ChecklistProblem(
                display, line, f"front matter is not valid YAML ({getattr(exc, 'problem', exc)})"
            )
        )
        return {}, end + 1
    if not isinstance(data, dict):
        problems.append(ChecklistProblem(display, 2, "front matter must be a mapping of keys"))
        return {}, end + 1
    for key in FRONT_KEYS:
        if key not in data:
            problems.append(ChecklistProblem(display, end + 1, f"front matter lacks the key '{key}'"))
    paths = data.get("upstream_paths")
    if "upstream_paths" in data and not (isinstance(paths, list) and all(isinstance(p, str) for p in paths)):
        problems.append(
            ChecklistProblem(display, end + 1, "front matter 'upstream_paths' must be a list of paths")
        )
    return data, end + 1


def _entry(number: int, title: str, index: int) -> Entry:
    """A catalog heading: its first code span is the symbol, the others (`.run_server`) are read beside it."""
    spans = re.findall(r"`([^`]+)`", title)
    symbol = spans[0] if spans else title
    module = symbol.rsplit(".", 1)[0]
    also = tuple(module + span if span.startswith(".") else span for span in spans[1:])
    return Entry(number, title, symbol, index, None, (), also)


def _with_details(entry: Entry, stripped: str) -> Entry:
    """The catalog entry with what a line of its body adds: its source, the call sites it names."""
    source = _SOURCE.match(stripped)
    sites = tuple((f, int(n)) for f, n in _CALL_SITE.findall(stripped))
    return Entry(
        entry.number,
        entry.title,
        entry.symbol,
        entry.index,
        entry.source or (source.group(1).strip("`") if source else None),
        entry.call_sites + sites,
        entry.also,
    )


def _structure_problems(
    display: str,
    count: int,
    sections: Mapping[str, int],
    tier_headings: Mapping[str, int],
    entries: Sequence[Entry],
) -> list[ChecklistProblem]:
    """Sections and tier tables the checklist lacks, and catalog entries numbered out of order."""
    problems = [
        ChecklistProblem(display, count or 1, f"missing section '## {name}'")
        for name in SECTIONS
        if name not in sections
    ]
    if "Affected Files" in sections:
        for name in TIERS:
            if name not in tier_headings:
                where = sections["Affected Files"] + 1
                problems.append(
                    ChecklistProblem(display, where, f"'Affected Files' lacks the '### {name.title()}' table")
                )
    for position, entry in enumerate(entries, 1):
        if entry.number != position:
            problems.append(
                ChecklistProblem(
                    display, entry.index + 1, f"catalog entry numbered {entry.number}, expected {position}"
                )
            )
    return problems


@dataclass
class _Scan:
    """What reading the body line by line has found so far, and where it is (section, tier table)."""

    display: str
    problems: list[ChecklistProblem]
    sections: dict[str, int] = field(default_factory=dict)
    tier_headings: dict[str, int] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    guards: list[Guarded] = field(default_factory=list)
    section: str = ""
    tier: str = ""

    def line(self, index: int, stripped: str) -> None:
        if stripped.startswith("## "):
            name = stripped[3:]
            self.section = next((known for known in SECTIONS if name.strip().startswith(known)), name)
            self.sections.setdefault(self.section, index)
            self.tier = ""
        elif stripped.startswith("### ") and self.section == "Affected Files":
            # Any heading is a tier: "### External (awex)" is tier "external", kept as it is.
            words = re.findall(r"[A-Za-z][\w-]*", stripped[4:])
            self.tier = words[0].lower() if words else ""
            self.tier_headings.setdefault(self.tier, index)
        elif stripped.startswith("### ") and self.section == "API Usage Catalog":
            self._entry(index, stripped)
        elif self.section == "API Usage Catalog" and self.entries:
            self.entries[-1] = _with_details(self.entries[-1], stripped)
        elif self.section == "Version-Guarded Code" and (guard := _GUARD.match(stripped)):
            self.guards.append(Guarded(guard["file"], int(guard["line"]), guard["text"], index))
        elif self.section == "Affected Files" and stripped.startswith("|"):
            self._row(index, stripped)

    def _entry(self, index: int, stripped: str) -> None:
        match = _ENTRY.match(stripped)
        if match is None:
            self.problems.append(
                ChecklistProblem(
                    self.display, index + 1, "catalog heading is not numbered ('### N. `symbol`')"
                )
            )
            return
        self.entries.append(_entry(int(match.group(1)), match.group(2), index))

    def _row(self, index: int, stripped: str) -> None:
        row_cells = cells(stripped)
        if set(stripped) <= set("|-: ") or row_cells[0].lower() in ("file", ""):
            return  # header or separator
        if row_cells[0] in ("...", "…"):
            return
        self.rows.append(_row(self.tier, row_cells, index))


def parse_checklist(text: str, *, display: str) -> Checklist:
    """Parse a checklist; structural problems are collected (with file and line), not raised."""
    lines = text.splitlines(keepends=True)
    problems: list[ChecklistProblem] = []
    front, start = _front(lines, display, problems)
    scan = _Scan(display, problems)
    in_fence = False
    for index in range(start, len(lines)):
        stripped = lines[index].strip()
        if stripped.startswith("```"):
            in_fence = not in_fence
        if not in_fence:
            scan.line(index, stripped)
    problems += _structure_problems(display, len(lines), scan.sections, scan.tier_headings, scan.entries)
    return Checklist(
        display,
        tuple(lines),
        front,
        scan.sections,
        scan.tier_headings,
        tuple(scan.rows),
        tuple(scan.entries),
        tuple(problems),
        tuple(scan.guards),
    )
