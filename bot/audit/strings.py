"""Catalog entries naming no Python symbol (endpoints, JSON fields, weight keys): did their strings vanish?"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.audit.compare import Versions
from bot.audit.messages import message
from bot.files.python_sources import parse_file
from bot.model import Finding
from checklists.document import Checklist, Entry

_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*(\(\))?$")
_METHOD = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+", re.I)
_PLACEHOLDER = re.compile(r"\{[^{}]*\}|<[^<>]*>|\*")


@dataclass(frozen=True)
class Needle:
    """The literal fragments one catalog entry names; all must still occur in the new source."""

    entry: Entry
    fragments: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.entry.number}. {self.entry.symbol}"


def needles(entries: Sequence[Entry]) -> list[Needle]:
    """The entries whose code span is not a dotted Python name, with the literal parts to look for."""
    out = []
    for entry in entries:
        text = entry.symbol.strip().strip("'\"")
        if not text or _DOTTED.match(text):
            continue
        text = _METHOD.sub("", text)
        fragments = tuple(f for f in (p.strip() for p in _PLACEHOLDER.split(text)) if len(f) >= 3)
        if fragments:
            out.append(Needle(entry, fragments))
    return out


def occurring(root: Path, fragments: Iterable[str]) -> set[str]:
    """Which fragments occur anywhere in the Python sources under `root` (each file read once)."""
    wanted = set(fragments)
    found: set[str] = set()
    for file in sorted(root.rglob("*.py*")):
        if not wanted - found:
            break
        text = file.read_text(encoding="utf-8", errors="replace")
        found.update(f for f in wanted - found if f in text)
    return found


def locate_string(repo: Path, needle: Needle, files: Sequence[str]) -> tuple[str, int, int] | None:
    """Where the repository uses the string: a listed call site, else the first string literal holding it."""
    for file, line in needle.entry.call_sites:
        if (repo / file).is_file():
            return file, line, 1
    for relative in files:
        tree = parse_file(repo, relative, needles=needle.fragments)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
                continue
            if any(fragment in node.value for fragment in needle.fragments):
                return relative, node.lineno, node.col_offset + 1
    return None


def vanished_strings(
    repo: Path,
    checklist: Checklist,
    versions: Versions,
    old_root: Path,
    new_root: Path,
    files: Sequence[str],
) -> list[Finding]:
    """Findings for catalog strings present in the old distribution's source and gone from the new."""
    wanted = needles(checklist.entries)
    if not wanted:
        return []
    fragments = {f for n in wanted for f in n.fragments}
    before, after = occurring(old_root, fragments), occurring(new_root, fragments)
    out = []
    for needle in wanted:
        gone = [f for f in needle.fragments if f in before and f not in after]
        if not gone:
            continue
        where = locate_string(repo, needle, files) or (checklist.display, needle.entry.index + 1, 1)
        text = message(
            "string-vanished",
            entry=needle.label,
            text=gone[0],
            package=versions.package,
            old=versions.old,
            new=versions.new,
        )
        out.append(
            Finding(
                where[0],
                where[1],
                where[2],
                versions.package,
                needle.entry.symbol,
                "string-vanished",
                "error",
                text,
                catalog_entry=needle.label,
            )
        )
    return out
