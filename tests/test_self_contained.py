"""Tests, scripts and benchmarks read nothing outside the repository; the fixture copies are intact."""

from __future__ import annotations

import ast
import hashlib
import os
import re
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[1]
TREES = ("tests", "scripts", "benchmarks", ".ci")
FIXTURES = ROOT / "tests" / "fixtures"
COPIED = ("github", "bot_prs")  # third-party data copied verbatim, each folder with its SOURCES.md
# The fixture collection beside the repository that the tests once read.
OUTSIDE = re.compile(r"\.\./+shared\b|\bshared/+fixtures\b")


def _joined(base: PurePosixPath | None, parts: list[ast.expr]) -> PurePosixPath | None:
    names = [part.value for part in parts if isinstance(part, ast.Constant) and isinstance(part.value, str)]
    if base is None or len(names) != len(parts):
        return None
    return PurePosixPath(os.path.normpath(base.joinpath(*names)))


def _parent(base: PurePosixPath | None, levels: int = 1) -> PurePosixPath | None:
    return None if base is None else PurePosixPath(*base.parts[: max(1, len(base.parts) - levels)])


# C901: one flat `match`, a case per way of building a path; split, the table would read worse.
def _where(node: ast.AST, here: PurePosixPath) -> PurePosixPath | None:  # noqa: C901
    """Where a path expression built from `__file__` points, read lexically; None for any other expression."""
    match node:
        case ast.Name(id="__file__"):
            return here
        case ast.Call(func=ast.Name(id="Path" | "PurePath" | "PurePosixPath"), args=[inner]):
            return _where(inner, here)
        case ast.Call(func=ast.Attribute(value=inner, attr="resolve" | "absolute"), args=[]):
            return _where(inner, here)
        case ast.Call(func=ast.Attribute(attr="abspath" | "realpath"), args=[inner]):
            return _where(inner, here)
        case ast.Attribute(value=inner, attr="parent"):
            return _parent(_where(inner, here))
        case ast.Call(func=ast.Attribute(attr="dirname"), args=[inner]):
            return _parent(_where(inner, here))
        case ast.Subscript(
            value=ast.Attribute(value=inner, attr="parents"), slice=ast.Constant(value=int(up))
        ):
            return _parent(_where(inner, here), up + 1)
        case ast.BinOp(left=left, op=ast.Div(), right=right):
            return _joined(_where(left, here), [right])
        case ast.Call(func=ast.Attribute(attr="join", value=ast.Attribute()), args=[first, *rest]):
            return _joined(_where(first, here), rest)  # os.path.join(base, ...)
        case ast.Call(func=ast.Attribute(attr="joinpath", value=base), args=parts):
            return _joined(_where(base, here), parts)
    return None


def escapes(source: str, file: Path, root: Path) -> list[str]:
    """Each line of a Python source where a path built from `__file__` leaves `root`: `file:line: path`."""
    here = PurePosixPath(file)
    found: dict[int, str] = {}
    for node in ast.walk(ast.parse(source)):  # outer expressions first: one report per line, the whole path
        where = _where(node, here)
        if where is not None and not where.is_relative_to(PurePosixPath(root)):
            line = getattr(node, "lineno", 0)
            found.setdefault(line, f"{file.relative_to(root)}:{line}: {where}")
    return [found[line] for line in sorted(found)]


def mentions(text: str, file: Path, root: Path) -> list[str]:
    """Each line of a file that names the fixture collection outside the repository."""
    return [f"{file.relative_to(root)}:{number}: {line.strip()}"
            for number, line in enumerate(text.splitlines(), 1) if OUTSIDE.search(line)]  # fmt: skip


def code_files(root: Path) -> list[Path]:
    """The Python modules and shell scripts of the trees that must stand alone (fixture data aside)."""
    files, data = [], root / "tests" / "fixtures"
    for tree in TREES:
        for path in sorted((root / tree).rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts or path.is_relative_to(data):
                continue
            if path.suffix == ".py" or path.read_bytes().startswith(b"#!"):
                files.append(path)
    return files


def test_nothing_outside_the_repository_is_read() -> None:
    files = code_files(ROOT)
    assert {f.relative_to(ROOT).parts[0] for f in files} == set(TREES)
    problems = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        if path != Path(__file__).resolve():  # this file names the collection in its own examples
            problems += mentions(text, path, ROOT)
        if path.suffix == ".py":
            problems += escapes(text, path, ROOT)
    assert problems == [], "paths leaving the repository:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("source", "depth", "leaves"),
    [
        ('Path(__file__).resolve().parents[3] / "shared" / "fixtures"', 2, True),
        ("Path(__file__).parents[2]", 2, False),
        ("Path(__file__).parents[2]", 1, True),
        ('Path(__file__).resolve().parent.parent / "golden"', 1, False),
        ("Path(__file__).parent.parent.parent", 1, True),
        ('Path(__file__).parent / ".." / ".." / "shared"', 1, True),
        ('os.path.join(os.path.dirname(__file__), "..", "fixtures")', 1, False),
        ('os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../x")', 1, True),
        ('Path(__file__).parent.joinpath("..", "..", "x")', 1, True),
        ("Path(__file__).parent / name", 1, False),  # not read lexically: nothing claimed
    ],
)
def test_the_scan_sees_a_path_leave(source: str, depth: int, leaves: bool, tmp_path: Path) -> None:
    file = tmp_path.joinpath(*["d"] * depth, "m.py")
    assert bool(escapes(source, file, tmp_path)) is leaves


def test_the_scan_sees_the_collection_named() -> None:
    assert mentions('x = ROOT / "../shared/x"\nfine = 1\n', ROOT / "tests/x.py", ROOT) == [
        'tests/x.py:1: x = ROOT / "../shared/x"'
    ]
    assert mentions("FIXTURES = 'shared/fixtures/github'", ROOT / "x.py", ROOT) != []
    assert mentions("shared = tmp_path / 'shared'  # shared cache", ROOT / "x.py", ROOT) == []


def test_fixture_copies_are_byte_identical_to_their_sources() -> None:
    sums = (FIXTURES / "SHA256SUMS").read_text().splitlines()
    listed = {name: digest for digest, name in (line.split("  ", 1) for line in sums)}
    files = [path for folder in COPIED for path in (FIXTURES / folder).rglob("*") if path.is_file()]
    present = {path.relative_to(FIXTURES).as_posix() for path in files if path.name != "SOURCES.md"}
    assert present == set(listed), "every copied file, and only those, is in SHA256SUMS"
    assert {name: hashlib.sha256((FIXTURES / name).read_bytes()).hexdigest() for name in listed} == listed
    for folder in COPIED:
        sources = (FIXTURES / folder / "SOURCES.md").read_text(encoding="utf-8")
        assert sources.startswith(f"# Sources of `tests/fixtures/{folder}/`\n")
