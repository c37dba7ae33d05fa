"""Finds comparisons against a package's version in the repository and says which the new floor makes dead."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from bot.files.python_sources import parse_file, python_files

_WRAPPERS = {"Version", "parse", "parse_version", "LooseVersion", "StrictVersion"}
_FLIP = {
    ast.Lt: ast.Gt,
    ast.Gt: ast.Lt,
    ast.LtE: ast.GtE,
    ast.GtE: ast.LtE,
    ast.Eq: ast.Eq,
    ast.NotEq: ast.NotEq,
}
_OPS: dict[type[ast.cmpop], Callable[[Version, Version], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


@dataclass(frozen=True)
class Guard:
    """One comparison of the package's version against a literal."""

    file: str
    line: int
    column: int
    text: str  # the comparison as written
    op: str  # "<", ">=", ... with the package's version on the left
    bound: str  # the literal version


def callee_name(node: ast.expr) -> str:
    """The last name of a called expression: `version` for `importlib.metadata.version`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


class GuardFinder(ast.NodeVisitor):
    def __init__(self, file: str, source: str, package: str, roots: frozenset[str]) -> None:
        self.file, self.source, self.package, self.roots = file, source, package, roots
        self.aliases: set[str] = set(roots)  # names bound to the package module
        self.version_names: set[str] = set()  # variables holding the package's version
        self.guards: list[Guard] = []

    def is_version(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name) and node.id in self.version_names:
            return True
        if isinstance(node, ast.Attribute) and node.attr == "__version__":
            return isinstance(node.value, ast.Name) and node.value.id in self.aliases
        if isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            if (
                callee_name(node.func) == "version"
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                return canonicalize_name(first.value) == self.package
            if callee_name(node.func) in _WRAPPERS:
                return self.is_version(first)
        return False

    def literal(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Call) and callee_name(node.func) in _WRAPPERS and len(node.args) == 1:
            node = node.args[0]
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return None

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name in self.roots and alias.asname:
                self.aliases.add(alias.asname)

    def visit_Assign(self, node: ast.Assign) -> None:
        if self.is_version(node.value):
            self.version_names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        if len(node.ops) == 1 and type(node.ops[0]) in _FLIP:
            left, right, op = node.left, node.comparators[0], type(node.ops[0])
            if self.is_version(right) and not self.is_version(left):
                left, right, op = right, left, _FLIP[op]
            bound = self.literal(right)
            if self.is_version(left) and bound is not None:
                text = ast.get_source_segment(self.source, node) or ""
                symbol = {
                    ast.Lt: "<",
                    ast.LtE: "<=",
                    ast.Gt: ">",
                    ast.GtE: ">=",
                    ast.Eq: "==",
                    ast.NotEq: "!=",
                }
                self.guards.append(
                    Guard(self.file, node.lineno, node.col_offset + 1, text, symbol[op], bound)
                )
        self.generic_visit(node)


def find_guards(
    repo: Path, package: str, roots: frozenset[str], *, files: Iterable[str] | None = None
) -> list[Guard]:
    """Every comparison of `package`'s version against a literal in the repository."""
    found: list[Guard] = []
    for relative in files if files is not None else python_files(repo):
        tree = parse_file(repo, relative, needles=("version",))  # __version__ and version("pkg") alike
        if tree is None:
            continue
        source = (repo / relative).read_text(encoding="utf-8", errors="replace")
        finder = GuardFinder(relative, source, canonicalize_name(package), roots)
        finder.visit(tree)
        found.extend(finder.guards)
    return found


def outcome(guard: Guard, floor: str) -> bool | None:
    """True or False when every version from `floor` on gives that result; None when it still varies."""
    symbol = {"<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE, "==": ast.Eq, "!=": ast.NotEq}[guard.op]
    try:
        low, bound = Version(floor), Version(guard.bound)
    except InvalidVersion:
        return None
    compare = _OPS[symbol]
    if low > bound:  # every version from the floor on lies above the bound
        return compare(low, bound)
    if low == bound:  # the floor itself equals the bound; later ones lie above
        return compare(low, bound) if guard.op in (">=", "<") else None
    return None
