"""Checks compat-shim files against the N / N-1 policy: tags, dead fallbacks, version gates, stub lists."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from bot.audit.guards import GuardFinder, callee_name
from bot.audit.messages import message
from bot.files.config import CompatShim
from bot.files.python_sources import matches, parse_file
from bot.model import Finding

TAG = re.compile(
    r"#\s*Fallback for\s+(?P<package>[\w.-]+)\s+(?P<version><?\s*v?[0-9][\w.+-]*?)\.?\s+"
    r"Remove when min supported version is\s+v?(?P<remove>[0-9][\w.]*?)\+",
    re.I,
)
_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "AttributeError"}


@dataclass(frozen=True)
class ShimContext:
    """What the policy needs to know about this upgrade."""

    package: str
    roots: frozenset[str]
    old: str  # the lowest version the old locks held (N-1)
    new: str  # the lowest version the new locks hold (N)
    window: int


def min_supported(context: ShimContext) -> str | None:
    """N with a window of 0, N-1 with 1; wider windows need a release history we do not have."""
    if context.window == 0:
        return context.new
    if context.window == 1:
        return context.old
    return None


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(n, ast.Name) and n.id in _IMPORT_ERRORS for n in names)


def _stub_modules(repo: Path, stub_list: str, roots: frozenset[str]) -> set[str] | None:
    tree = parse_file(repo, stub_list)
    if tree is None:
        return None
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            for item in node.elts:
                if (
                    isinstance(item, ast.Constant)
                    and isinstance(item.value, str)
                    and matches(item.value, roots)
                ):
                    found.add(item.value)
    return found


def _finding(file: str, node: ast.AST, context: ShimContext, symbol: str, kind: str, text: str) -> Finding:
    return Finding(
        file=file,
        line=getattr(node, "lineno", 1),
        column=getattr(node, "col_offset", 0) + 1,
        package=context.package,
        symbol=symbol,
        kind=kind,
        severity="warning",
        message=text,
    )


def check_shims(
    repo: Path, shims: tuple[CompatShim, ...], context: ShimContext, *, config_file: str | None = None
) -> list[Finding]:
    """Findings for every configured shim file of `context.package`."""
    findings: list[Finding] = []
    for shim in (s for s in shims if s.package == context.package):
        for file in shim.files:
            if not (repo / file).is_file():
                findings.append(_missing_file(repo, file, context, config_file))
                continue
            tree = parse_file(repo, file)
            if tree is None:
                continue
            lines = (repo / file).read_text(encoding="utf-8", errors="replace").splitlines()
            findings.extend(_gates(file, tree, "\n".join(lines), context))
            for node in ast.walk(tree):
                if isinstance(node, ast.Try):
                    findings.extend(_fallbacks(repo, file, node, lines, shim, context))
    return findings


def _missing_file(repo: Path, file: str, context: ShimContext, config_file: str | None) -> Finding:
    """A configured shim file that is not there, located at the config line naming it."""
    where, line = config_file or ".github/upgrade-deps.toml", 1
    try:
        lines = (repo / where).read_text(encoding="utf-8").splitlines()
        line = next((n for n, text in enumerate(lines, 1) if f'"{file}"' in text or f"'{file}'" in text), 1)
    except (OSError, UnicodeDecodeError):
        pass
    text = message("compat-missing-file", file=file, package=context.package)
    return Finding(where, line, 1, context.package, file, "compat-missing-file", "warning", text)


def _gates(file: str, tree: ast.Module, source: str, context: ShimContext) -> list[Finding]:
    finder = GuardFinder(file, source, context.package, context.roots)
    finder.visit(tree)  # collects aliases of the package first
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute | ast.Call) and finder.is_version(node):
            if isinstance(node, ast.Call) and callee_name(node.func) != "version":
                continue  # Version(pkg.__version__): the inner expression is reported
            text = ast.get_source_segment(source, node) or "__version__"
            out.append(
                _finding(
                    file,
                    node,
                    context,
                    text,
                    "compat-version-gate",
                    message("compat-version-gate", text=text),
                )
            )
    return out


def _fallbacks(
    repo: Path,
    file: str,
    node: ast.Try,
    lines: list[str],
    shim: CompatShim,
    context: ShimContext,
) -> list[Finding]:
    floor = min_supported(context)
    imports = [
        stmt
        for stmt in node.body
        if isinstance(stmt, ast.ImportFrom | ast.Import)
        and any(matches(m, context.roots) for m in _modules(stmt))
    ]
    handlers = [h for h in node.handlers if _catches_import_error(h)]
    if not imports or not handlers:
        return []
    names = ", ".join(alias.asname or alias.name for stmt in imports for alias in stmt.names)
    out: list[Finding] = []
    for handler in handlers:
        end = handler.end_lineno or handler.lineno
        tag = next((m for m in (TAG.search(line) for line in lines[handler.lineno - 1 : end]) if m), None)
        if tag is None:
            text = message("compat-untagged", symbol=names, package=context.package)
            out.append(_finding(file, handler, context, names, "compat-untagged", text))
            continue
        try:
            removable = floor is not None and Version(floor) >= Version(tag["remove"])
        except InvalidVersion:
            removable = False
        if not removable:
            continue
        text = message(
            "compat-removable",
            package=context.package,
            fallback_for=tag["version"],
            floor=floor,
            remove_when=tag["remove"],
        )
        out.append(_finding(file, handler, context, names, "compat-removable", text))
        for stub_list in shim.stub_lists:
            listed = _stub_modules(repo, stub_list, context.roots)
            for stmt in imports:
                for module in _modules(stmt):
                    if listed is not None and module not in listed:
                        text = message("stub-missing", module=module, stub_list=stub_list)
                        out.append(_finding(file, stmt, context, module, "stub-missing", text))
    return out


def _modules(stmt: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(stmt, ast.ImportFrom):
        return [stmt.module] if stmt.module and not stmt.level else []
    return [alias.name for alias in stmt.names]
