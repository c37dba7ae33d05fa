"""Removes the fallback branches a compat window retires from a shim's source, all else as it was (pure)."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import libcst as cst
import libcst.helpers
from libcst.metadata import MetadataWrapper, PositionProvider

from bot.fix.cstlists import parse, without_strings

Branch = tuple[int, int]  # (line of the `try`, index of the handler among its handlers)
_Imports = TypeVar("_Imports", cst.Import, cst.ImportFrom)


@dataclass(frozen=True)
class Pruned:
    """The shim's new source and what the pass removed beside the branches themselves."""

    source: str
    polyfills: tuple[tuple[str, int], ...]  # (name, line) of classes and functions that went
    unexported: tuple[str, ...]  # `__all__` entries removed: names nothing binds any more
    collapsed: tuple[int, ...]  # lines of the `try`s left without a handler, replaced by their body
    plain: bool  # only imports, `__all__` and docstrings are left
    orphaned: tuple[tuple[str, int], ...] = ()  # (name, line) of module-level imports only the removed
    # code used: gone too


class _Remover(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, branches: frozenset[Branch]) -> None:
        super().__init__()
        self.branches = branches
        self.collapsed: list[int] = []

    def leave_Try(
        self, original_node: cst.Try, updated_node: cst.Try
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        line = self.get_metadata(PositionProvider, original_node).start.line
        handlers = [h for i, h in enumerate(updated_node.handlers) if (line, i) not in self.branches]
        if len(handlers) == len(updated_node.handlers):
            return updated_node
        if handlers:
            return updated_node.with_changes(handlers=handlers)
        self.collapsed.append(line)
        return _collapse(updated_node)


def _collapse(node: cst.Try) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
    """A `try` with no handler left: its body (then its `else`) in its place, its comments kept."""
    body = list(_statements(node.body))
    if node.orelse is not None:
        body += _statements(node.orelse.body)
    if node.finalbody is not None:  # `try`/`finally` stays valid without handlers
        block = node.body.with_changes(body=body)
        return node.with_changes(body=block, handlers=(), orelse=None)
    lines = list(node.leading_lines)
    header = node.body.header if isinstance(node.body, cst.IndentedBlock) else None
    if (
        header is not None and header.comment is not None
    ):  # `try:  # why` keeps its comment above the statements
        lines.append(cst.EmptyLine(comment=header.comment))
    first = body[0]
    assert isinstance(first, cst.SimpleStatementLine | cst.BaseCompoundStatement)  # noqa: S101
    body[0] = first.with_changes(leading_lines=[*lines, *first.leading_lines])
    return cst.FlattenSentinel(body)


def _statements(block: cst.BaseSuite) -> list[cst.BaseStatement]:
    if isinstance(block, cst.IndentedBlock):
        return list(block.body)
    assert isinstance(block, cst.SimpleStatementSuite)  # noqa: S101 - the only other suite
    return [cst.SimpleStatementLine(body=block.body)]


def _binds(node: ast.stmt, *, defs_only: bool) -> list[str]:
    """The names one statement binds itself (classes and functions only, with `defs_only`)."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if defs_only:
        return []
    if isinstance(node, ast.Import | ast.ImportFrom):
        return [alias.asname or alias.name.split(".")[0] for alias in node.names]
    if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [leaf.id for target in targets for leaf in ast.walk(target) if isinstance(leaf, ast.Name)]
    return []


def _bound(body: Iterable[ast.stmt], *, defs_only: bool = False) -> dict[str, int]:
    """Names a block binds at its own level (nested if/try/with too, not inside def or class)."""
    names: dict[str, int] = {}
    stack = list(body)
    while stack:
        node = stack.pop(0)
        for name in _binds(node, defs_only=defs_only):
            names.setdefault(name, node.lineno)
        if isinstance(node, ast.If | ast.Try | ast.With | ast.For | ast.While):
            stack += [*node.body, *getattr(node, "orelse", []), *getattr(node, "finalbody", [])]
            stack += [s for h in getattr(node, "handlers", []) for s in h.body]
    return names


def _handlers(tree: ast.Module, branches: frozenset[Branch]) -> list[ast.ExceptHandler]:
    return [
        handler
        for node in ast.walk(tree)
        if isinstance(node, ast.Try)
        for index, handler in enumerate(node.handlers)
        if (node.lineno, index) in branches
    ]


def _is_plain(tree: ast.Module) -> bool:
    """Nothing but imports, docstrings and `__all__`: the shim only re-exports."""
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AugAssign):
            targets = [node.target]
        if targets and all(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            continue
        return False
    return True


def prune(source: str, branches: Sequence[Branch]) -> Pruned:
    """Remove the `except` clauses `branches` from `source`; a `try` left without any collapses to its
    body. Classes and functions those clauses defined go with them, and so do the `__all__` entries of
    names nothing else binds any more."""
    wanted = frozenset(branches)
    before = ast.parse(source)
    gone = {name: line for h in _handlers(before, wanted) for name, line in _bound(h.body).items()}
    polyfills = {
        name: line for h in _handlers(before, wanted) for name, line in _bound(h.body, defs_only=True).items()
    }
    remover = _Remover(wanted)
    module = MetadataWrapper(parse(source)).visit(remover)
    after = ast.parse(module.code)
    still = _bound(after.body)
    unexported = tuple(sorted(name for name in gone if name not in still))
    if unexported:
        module = module.visit(_AllFilter(frozenset(unexported)))
        after = ast.parse(module.code)
    # `import socket` that only a retired polyfill used would fail the repository's linter (F401).
    # Only imports the old source used and the new one does not: an unused one may be a re-export.
    lines, unused = _imported(before), _used(before) - _used(after)
    orphaned = tuple(
        sorted(((n, lines.get(n, 1)) for n in _imported(after) if n in unused), key=lambda o: o[1])
    )
    if orphaned:
        module = module.visit(_ImportFilter(frozenset(name for name, _ in orphaned)))
        after = ast.parse(module.code)
    return Pruned(
        source=module.code,
        polyfills=tuple(sorted(polyfills.items(), key=lambda item: item[1])),
        unexported=unexported,
        collapsed=tuple(remover.collapsed),
        plain=_is_plain(after),
        orphaned=orphaned,
    )


def _imported(tree: ast.Module) -> dict[str, int]:
    """Names the module's own top-level import statements bind, with their lines."""
    return {name: node.lineno for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)
            for name in _binds(node, defs_only=False)}  # fmt: skip


def _used(tree: ast.Module) -> set[str]:
    """Names the module reads anywhere, and the strings of its `__all__` (what it exports)."""
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Store)}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AugAssign) and "__all__" in _binds(node, defs_only=False):
            names |= {c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant)}  # type: ignore[misc]
    return names


class _ImportFilter(cst.CSTTransformer):
    """Drops names from the module's own top-level imports; an import left with none goes."""

    def __init__(self, names: frozenset[str]) -> None:
        super().__init__()
        self.names = names

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> bool:
        return False

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        """A line whose imports all went leaves its blank lines to the next statement (the gap after
        a docstring stays); comments above it were about it and go with it."""
        body: list[cst.BaseStatement] = []
        carried: list[cst.EmptyLine] = []
        for statement in updated_node.body:
            if isinstance(statement, cst.SimpleStatementLine):
                small = [kept for part in statement.body if (kept := self._filtered(part)) is not None]
                if not small:
                    carried += [line for line in statement.leading_lines if line.comment is None]
                    continue
                statement = statement.with_changes(body=small)
            if carried and isinstance(statement, cst.SimpleStatementLine | cst.BaseCompoundStatement):
                statement = statement.with_changes(leading_lines=[*carried, *statement.leading_lines])
                carried = []
            body.append(statement)
        return updated_node.with_changes(body=body)

    def _filtered(self, part: cst.BaseSmallStatement) -> cst.BaseSmallStatement | None:
        if isinstance(part, cst.Import):
            return _kept(part, [a for a in part.names if _alias_name(a, top=True) not in self.names])
        if isinstance(part, cst.ImportFrom) and not isinstance(part.names, cst.ImportStar):
            return _kept(part, [a for a in part.names if _alias_name(a, top=False) not in self.names])
        return part


def _alias_name(alias: cst.ImportAlias, *, top: bool) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    dotted = cst.helpers.get_full_name_for_node(alias.name) or ""
    return dotted.split(".")[0] if top else dotted


def _kept(node: _Imports, kept: list[cst.ImportAlias]) -> _Imports | None:
    if not kept:
        return None
    if len(kept) == len(tuple(node.names)):  # type: ignore[arg-type]  # never `*`: the caller kept it
        return node
    last = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return node.with_changes(names=[*kept[:-1], last])


class _AllFilter(cst.CSTTransformer):
    """Drops names from the module's `__all__` list or tuple (assigned or extended)."""

    def __init__(self, names: frozenset[str]) -> None:
        super().__init__()
        self.names = names

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> bool:
        return False  # `__all__` is a module-level name

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        if any(_is_all(t.target) for t in updated_node.targets):
            return updated_node.with_changes(value=without_strings(updated_node.value, self.names))
        return updated_node

    def leave_AugAssign(self, original_node: cst.AugAssign, updated_node: cst.AugAssign) -> cst.AugAssign:
        if _is_all(updated_node.target):
            return updated_node.with_changes(value=without_strings(updated_node.value, self.names))
        return updated_node


def _is_all(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "__all__"
