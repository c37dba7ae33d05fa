"""Adds modules to a stub list (the literal of module names a test harness mocks), layout kept (pure)."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from bot.files.python_sources import matches
from bot.fix.cstlists import Literal_, parse, strings_of, with_strings


class _Finder(cst.CSTVisitor):
    """The literal holding the most of the package's module names: the list the harness mocks."""

    def __init__(self, roots: frozenset[str]) -> None:
        super().__init__()
        self.roots = roots
        self.best: Literal_ | None = None
        self.count = 0

    def _consider(self, node: Literal_) -> None:
        count = sum(matches(value, self.roots) for value in strings_of(node))
        if count > self.count:
            self.best, self.count = node, count

    def visit_List(self, node: cst.List) -> None:
        self._consider(node)

    def visit_Tuple(self, node: cst.Tuple) -> None:
        self._consider(node)

    def visit_Set(self, node: cst.Set) -> None:
        self._consider(node)


class _Adder(cst.CSTTransformer):
    def __init__(self, target: Literal_, modules: Sequence[str]) -> None:
        super().__init__()
        self.target = target
        self.modules = modules

    def _add(self, original: Literal_, updated: Literal_) -> Literal_:
        return with_strings(updated, self.modules) if original is self.target else updated

    def leave_List(self, original_node: cst.List, updated_node: cst.List) -> cst.BaseExpression:
        return self._add(original_node, updated_node)

    def leave_Tuple(self, original_node: cst.Tuple, updated_node: cst.Tuple) -> cst.BaseExpression:
        return self._add(original_node, updated_node)

    def leave_Set(self, original_node: cst.Set, updated_node: cst.Set) -> cst.BaseExpression:
        return self._add(original_node, updated_node)


def add_stubs(source: str, modules: Sequence[str], roots: frozenset[str]) -> tuple[str, tuple[str, ...]]:
    """(new source, the modules added): `modules` the stub list lacks, added to its literal. A file
    with no literal of the package's module names is left alone (the finding stays for a person)."""
    module = parse(source)
    finder = _Finder(roots)
    module.visit(finder)
    if finder.best is None:
        return source, ()
    listed = set(strings_of(finder.best))
    missing = tuple(dict.fromkeys(m for m in modules if m not in listed))
    if not missing:
        return source, ()
    return module.visit(_Adder(finder.best, missing)).code, missing
