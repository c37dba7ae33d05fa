"""What griffe does not keep, read from a distribution's source text: bodies, definitions, module files."""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_DEFINITION = re.compile(
    r"^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*(?::[^=\n]*)?=", re.M
)


def index_definitions(root: Path, top_level: tuple[str, ...]) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for top in top_level:
        base = root.joinpath(*top.split("."))
        files = [base.with_suffix(".py")] if base.with_suffix(".py").is_file() else sorted(base.rglob("*.py"))
        for file in files:
            relative = file.relative_to(root).with_suffix("")
            parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
            dotted = ".".join(parts)
            text = file.read_text(encoding="utf-8", errors="replace")
            for match in _DEFINITION.finditer(text):
                index.setdefault(match.group(1) or match.group(2), []).append(dotted)
    return index


def _module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements run on import: the body and what `if`/`try`/`with` blocks hold, not functions or classes."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.If | ast.Try | ast.With):
            for block in (stmt.body, getattr(stmt, "orelse", []), getattr(stmt, "finalbody", [])):
                yield from _module_level(block)
            for handler in getattr(stmt, "handlers", []):
                yield from _module_level(handler.body)


def binding_modules(root: Path, top_level: tuple[str, ...], name: str) -> list[str]:
    """Dotted paths of the modules that bind `name` by importing it at module level (re-exports such as
    `from ._impl import Engine` in a package's `__init__`), most public first."""
    word = re.compile(rf"\b{re.escape(name)}\b".encode())
    found: list[str] = []
    for top in top_level:
        base = root.joinpath(*top.split("."))
        files = [base.with_suffix(".py")] if base.with_suffix(".py").is_file() else sorted(base.rglob("*.py"))
        for file in files:
            data = file.read_bytes()
            if b"import" not in data or not word.search(data):
                continue
            try:
                tree = ast.parse(data)
            except (SyntaxError, ValueError):
                continue
            if any(
                isinstance(stmt, ast.ImportFrom) and any((a.asname or a.name) == name for a in stmt.names)
                for stmt in _module_level(tree.body)
            ):
                relative = file.relative_to(root).with_suffix("")
                found.append(".".join(relative.parts[:-1] if relative.name == "__init__" else relative.parts))
    return sorted(found, key=publicness)


def publicness(dotted: str) -> tuple[int, int, str]:
    parts = dotted.split(".")
    return (sum(p.startswith("_") for p in parts), len(parts), dotted)


def module_paths(root: Path, top_level: tuple[str, ...], name: str) -> list[str]:
    """Dotted paths of the modules or packages named `name`, most public first."""
    found = []
    for top in top_level:
        base = root.joinpath(*top.split("."))
        for path in [*base.rglob(f"{name}.py"), *base.rglob(f"{name}/__init__.py")]:
            relative = path.relative_to(root).with_suffix("")
            parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
            found.append(".".join(parts))
    return sorted(set(found), key=publicness)


def assigned_in_body(cls: Any, name: str) -> bool:
    """griffe records `self.x = ...` from `__init__` only; look for it in the class's other methods."""
    try:
        lines = Path(cls.filepath).read_text(encoding="utf-8", errors="replace").splitlines()
    except (OSError, TypeError):
        return True  # cannot look: do not call it removed
    body = "\n".join(lines[(cls.lineno or 1) - 1 : cls.endlineno or len(lines)])
    return re.search(rf"\bself\.{re.escape(name)}\b\s*(?::[^=\n]*)?=(?!=)", body) is not None


def returns_self(function: Any) -> bool:
    """Every `return` of the method is `return self` (what `__enter__` usually does; griffe keeps no body)."""
    try:
        lines = Path(function.filepath).read_text(encoding="utf-8", errors="replace").splitlines()
        source = textwrap.dedent("\n".join(lines[function.lineno - 1 : function.endlineno]))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, ValueError):
        return False
    definition = tree.body[0] if tree.body else None
    if not isinstance(definition, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    returns: list[ast.Return] = []
    stack: list[ast.AST] = list(definition.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            returns.append(node)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            stack.extend(ast.iter_child_nodes(node))
    return bool(returns) and all(isinstance(r.value, ast.Name) and r.value.id == "self" for r in returns)
