"""Lists and parses the repository's own Python files (read by the audit and checklist validation)."""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from bot.files import repofiles
from bot.files.repofiles import UnsafePathError

# Directories that hold other people's code or generated files, never the repository's own.
SKIP_DIRS = frozenset(
    {".git", ".hg", ".venv", "venv", "env", "node_modules", "__pycache__", "build", "dist", "site-packages"}
)


def python_files(repo: Path) -> Iterator[str]:
    """Repository-relative POSIX paths of every .py file, sorted, vendored and hidden dirs skipped."""
    found: list[str] = []
    for directory, dirs, files in os.walk(repo):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        base = Path(directory)
        found.extend((base / f).relative_to(repo).as_posix() for f in files if f.endswith(".py"))
    yield from sorted(found)


def parse_file(repo: Path, relative: str, *, needles: Iterable[str] = ()) -> ast.Module | None:
    """The module's syntax tree; None when it is not valid Python, or mentions none of `needles`.

    The text check is what keeps a large repository cheap: most files never name the package,
    and reading bytes is far faster than building their trees.
    """
    try:
        data = repofiles.read_bytes(repo, relative)
        wanted = [n.encode() for n in needles]
        if wanted and not any(n in data for n in wanted):
            return None
        return ast.parse(data, filename=relative)
    except (SyntaxError, ValueError, OSError, UnsafePathError):
        return None


def matches(dotted: str, roots: frozenset[str] | set[str] | tuple[str, ...]) -> bool:
    """True when `dotted` is one of the import names or lies below one."""
    return any(dotted == root or dotted.startswith(root + ".") for root in roots)
