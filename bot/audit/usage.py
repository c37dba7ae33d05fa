"""Finds the repository's uses of a package with `ast`: imports, attribute chains, calls, subclassing."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.files.python_sources import matches, parse_file, python_files

_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})
UseKind = Literal["import", "call", "attribute", "subclass"]


@dataclass(frozen=True)
class Use:
    """One place the repository touches `symbol` (a dotted path inside the package)."""

    file: str
    line: int
    column: int  # 1-based
    symbol: str
    kind: UseKind
    positional: int = 0
    keywords: tuple[str, ...] = ()
    star_args: bool = False  # `*seq` in the call: the positional count is not known
    star_kwargs: bool = False  # `**mapping` in the call: more keywords may be passed
    on_instance: bool = False  # `symbol` is `Class.method` reached through an instance of Class
    guarded: bool = False  # inside an `except ImportError:` fallback: absence there is handled
    fallback: int = 0  # the line of the `except ImportError:` that runs instead when this import fails


_Binding = tuple[str, bool]  # (dotted path, is an instance of that path)
_Scope = dict[str, _Binding | None]  # None: a local name shadows an outer import


def _module_bindings(body: Iterable[ast.stmt], roots: frozenset[str]) -> dict[str, _Binding]:
    """Names bound by imports in this block (nested if/try/with too, not inside def or class)."""
    bound: dict[str, _Binding] = {}
    stack = list(body)
    while stack:
        node = stack.pop(0)
        if isinstance(node, ast.Import | ast.ImportFrom):
            bound.update(_imported(node, roots))
        elif isinstance(node, ast.If | ast.Try | ast.With | ast.For | ast.While):
            for field in ("body", "orelse", "finalbody", "handlers"):
                for child in getattr(node, field, []):
                    stack.extend(child.body if isinstance(child, ast.ExceptHandler) else [child])
    return bound


def _imported(node: ast.Import | ast.ImportFrom, roots: frozenset[str]) -> dict[str, _Binding]:
    """The names one import statement binds to the audited packages (relative imports bind none)."""
    bound: dict[str, _Binding] = {}
    if isinstance(node, ast.Import):
        for alias in node.names:
            if matches(alias.name, roots):
                top = alias.name.split(".")[0]
                bound[alias.asname or top] = (alias.name if alias.asname else top, False)
    elif node.level == 0 and node.module:
        for alias in node.names:
            path = f"{node.module}.{alias.name}"
            if alias.name != "*" and matches(path, roots):
                bound[alias.asname or alias.name] = (path, False)
    return bound


class _Visitor(ast.NodeVisitor):
    def __init__(self, file: str, roots: frozenset[str], tree: ast.Module) -> None:
        self.file = file
        self.roots = roots
        self.scopes: list[_Scope] = [dict(_module_bindings(tree.body, roots))]
        self.uses: list[Use] = []
        self.consumed: set[int] = set()  # Attribute nodes already reported as part of a longer chain
        self.guarded = 0  # depth of `except ImportError:` handlers around the current node
        self.fallbacks: list[int] = []  # per enclosing `try` body: its `except ImportError:` line, or 0
        self.attributes: list[_Scope] = []  # per enclosing class: `self.x = pkg.Thing()` bindings

    def resolve(self, node: ast.expr) -> _Binding | None:
        if isinstance(node, ast.Name):
            for scope in reversed(self.scopes):
                if node.id in scope:
                    return scope[node.id]  # None when a local name shadows the import
            return None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            if self.attributes and node.attr in self.attributes[-1]:
                self.consumed.add(id(node.value))
                return self.attributes[-1][node.attr]
            return None
        if isinstance(node, ast.Attribute):
            inner = self.resolve(node.value)
            if inner is None:
                return None
            self.consumed.add(id(node.value))
            return (f"{inner[0]}.{node.attr}", inner[1])
        return None

    def add(self, node: ast.AST, symbol: str, kind: UseKind, **extra: object) -> None:
        line, column = getattr(node, "lineno", 0), getattr(node, "col_offset", 0) + 1
        use = Use(self.file, line, column, symbol, kind, guarded=self.guarded > 0, **extra)  # type: ignore[arg-type]
        self.uses.append(use)

    def visit_With(self, node: ast.With) -> None:
        self._with(node, "__enter__")

    def visit_AsyncWith(self, node: ast.AsyncWith) -> None:
        self._with(node, "__aenter__")

    def _with(self, node: ast.With | ast.AsyncWith, enter: str) -> None:
        """`with pkg.Client() as c:` binds c to what `__enter__` returns (the model decides what that is)."""
        for item in node.items:
            self.visit(item.context_expr)
            bound = None
            if isinstance(item.context_expr, ast.Call):
                called = self.resolve(item.context_expr.func)
                if called is not None and not called[1]:
                    bound = (f"{called[0]}().{enter}()", True)
            if isinstance(item.optional_vars, ast.Name):
                self.scopes[-1][item.optional_vars.id] = bound
            elif item.optional_vars is not None:
                self.visit(item.optional_vars)
        for statement in node.body:
            self.visit(statement)

    def visit_Try(self, node: ast.Try) -> None:
        catching = [h for h in node.handlers if _catches_import_errors(h)]
        self.fallbacks.append(catching[0].lineno if catching else 0)
        for statement in node.body:
            self.visit(statement)
        self.fallbacks.pop()
        for statement in [*node.orelse, *node.finalbody]:
            self.visit(statement)
        for handler in node.handlers:
            fallback = handler in catching
            self.guarded += fallback
            self.visit(handler)
            self.guarded -= fallback

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if matches(alias.name, self.roots):
                self.add(node, alias.name, "import", fallback=self._fallback())

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            return
        for alias in node.names:
            path = f"{node.module}.{alias.name}"
            if alias.name != "*" and matches(path, self.roots):
                self.add(node, path, "import", fallback=self._fallback())

    def _fallback(self) -> int:
        """The nearest enclosing `try` body's `except ImportError:` line (0: none)."""
        return self.fallbacks[-1] if self.fallbacks else 0

    def _scoped(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for default in [*node.args.defaults, *node.args.kw_defaults, *node.decorator_list]:
            if default is not None:
                self.visit(default)
        arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        arguments += [a for a in (node.args.vararg, node.args.kwarg) if a is not None]
        scope: _Scope = {a.arg: None for a in arguments}
        scope.update(_module_bindings(node.body, self.roots))
        self.scopes.append(scope)
        outer, self.fallbacks = self.fallbacks, []  # the body runs when called, outside any `try` here
        for statement in node.body:
            self.visit(statement)
        self.fallbacks = outer
        self.scopes.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._scoped(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._scoped(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for base in node.bases:
            bound = self.resolve(base)
            if bound is not None and not bound[1]:
                self.add(base, bound[0], "subclass")
        for decorator in node.decorator_list:
            self.visit(decorator)
        for keyword in node.keywords:
            self.visit(keyword)
        self.scopes.append(dict(_module_bindings(node.body, self.roots)))
        self.attributes.append({})
        for statement in node.body:
            self.visit(statement)
        self.attributes.pop()
        self.scopes.pop()

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        instance = None
        if isinstance(node.value, ast.Call):
            bound = self.resolve(node.value.func)
            if bound is not None and not bound[1]:
                instance = (f"{bound[0]}()", True)  # the value the call returns
        for target in node.targets:
            if isinstance(target, ast.Name) and self.guarded and self.scopes[-1].get(target.id):
                # `except ImportError: Thing = None`: a stand-in for when the import fails. The audit
                # reads the package as installed, so the import's binding stands.
                continue
            if isinstance(target, ast.Name):
                self.scopes[-1][target.id] = instance
            elif isinstance(target, ast.Attribute) and _is_self_attribute(target) and self.attributes:
                self.attributes[-1][target.attr] = instance
            else:
                self.visit(target)

    def visit_Call(self, node: ast.Call) -> None:
        bound = self.resolve(node.func)
        if bound is not None and (not bound[1] or isinstance(node.func, ast.Attribute)):
            self.add(
                node.func,
                bound[0],
                "call",
                positional=sum(not isinstance(a, ast.Starred) for a in node.args),
                keywords=tuple(k.arg for k in node.keywords if k.arg is not None),
                star_args=any(isinstance(a, ast.Starred) for a in node.args),
                star_kwargs=any(k.arg is None for k in node.keywords),
                on_instance=bound[1],
            )
        self.consumed.add(id(node.func))
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if id(node) not in self.consumed:
            bound = self.resolve(node)
            if bound is not None:
                self.add(node, bound[0], "attribute", on_instance=bound[1])
        self.generic_visit(node)


def _catches_import_errors(handler: ast.ExceptHandler) -> bool:
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(n, ast.Name) and n.id in _IMPORT_ERRORS for n in names)


def _is_self_attribute(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"


def uses_in_tree(file: str, tree: ast.Module, roots: frozenset[str]) -> list[Use]:
    """Every use of the packages named by `roots` in one parsed file."""
    visitor = _Visitor(file, roots, tree)
    visitor.visit(tree)
    return sorted(visitor.uses, key=lambda u: (u.line, u.column, u.symbol))


def find_uses(repo: Path, roots: frozenset[str], *, files: Iterable[str] | None = None) -> list[Use]:
    """Every use of the packages named by `roots` in the repository's Python files."""
    found: list[Use] = []
    for relative in files if files is not None else python_files(repo):
        tree = parse_file(repo, relative, needles={r.split(".")[0] for r in roots})
        if tree is not None:
            found.extend(uses_in_tree(relative, tree, roots))
    return found
