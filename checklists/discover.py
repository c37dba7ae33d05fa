"""Step 0.5 discovery: which repository files import a package, and what they import (by `ast`)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from bot.files.python_sources import matches, parse_file, python_files


@dataclass(frozen=True)
class Imported:
    """One import of the package in one file."""

    path: str  # `a.b.c` for `from a.b import c`, `a.b` for `import a.b`
    line: int
    from_import: bool  # names a symbol (from-import) rather than a module
    snippet: str
    alias: str = ""  # the `as` name, which a checklist row may document instead (`DDP`)


def imports_in(tree: ast.Module, source: str, roots: frozenset[str]) -> list[Imported]:
    """Every import of `roots` anywhere in the tree: module level, functions, `if TYPE_CHECKING:` blocks."""
    found: list[Imported] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if matches(alias.name, roots):
                    snippet = ast.get_source_segment(source, node) or ""
                    found.append(Imported(alias.name, node.lineno, False, snippet, alias.asname or ""))
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                path = node.module if alias.name == "*" else f"{node.module}.{alias.name}"
                # `from megatron import core` imports megatron.core as much as `import megatron.core`.
                if matches(node.module, roots) or matches(path, roots):
                    snippet = ast.get_source_segment(source, node) or ""
                    found.append(Imported(path, node.lineno, alias.name != "*", snippet, alias.asname or ""))
    return sorted(found, key=lambda i: (i.line, i.path))


def discover(repo: Path, roots: frozenset[str]) -> dict[str, list[Imported]]:
    """{repository path: its imports of the package}, for every file that imports it."""
    out: dict[str, list[Imported]] = {}
    for relative in python_files(repo):
        tree = parse_file(repo, relative, needles={r.split(".")[0] for r in roots})
        if tree is None:
            continue
        found = imports_in(tree, (repo / relative).read_text(encoding="utf-8", errors="replace"), roots)
        if found:
            out[relative] = found
    return out
