"""Checks compat-shim files against the N / N-1 policy: tags, dead fallbacks, version gates, stub lists."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from bot.audit.compat_branches import Fallback, fallbacks_in
from bot.audit.compat_tags import retired
from bot.audit.guards import GuardFinder, callee_name
from bot.audit.messages import message
from bot.files.config import CompatShim
from bot.files.python_sources import matches, parse_file
from bot.model import Finding, Severity


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


def _finding(
    where: tuple[str, int, int],
    context: ShimContext,
    symbol: str,
    kind: str,
    text: str,
    *,
    severity: Severity = "warning",
) -> Finding:
    file, line, column = where
    return Finding(file, line, column, context.package, symbol, kind, severity, text)


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
            source = (repo / file).read_text(encoding="utf-8", errors="replace")
            findings.extend(_gates(file, tree, source, context))
            for fallback in fallbacks_in(source, file, context.package, context.roots):
                findings.extend(_fallback_findings(repo, fallback, shim, context))
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
            where = (file, getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1)
            out.append(
                _finding(
                    where, context, text, "compat-version-gate", message("compat-version-gate", text=text)
                )
            )
    return out


def _fallback_findings(
    repo: Path, fallback: Fallback, shim: CompatShim, context: ShimContext
) -> list[Finding]:
    """Untagged; tagged but not evaluated (info); or retired by the new floor, with the stub-list
    entries removing it needs. A tag in the `try` body may retire either side of the block, so only a
    handler's own tag makes it removable without a person deciding which branch stays."""
    floor = min_supported(context)
    names = ", ".join(fallback.names) or ", ".join(i.module for i in fallback.imports)
    where = (fallback.file, fallback.handler_line, fallback.handler_column)
    tag = fallback.tag
    if tag is None:
        text = message("compat-untagged", symbol=names, package=context.package)
        return [_finding(where, context, names, "compat-untagged", text)]
    reason = tag.unevaluable or ("window" if floor is None else None)
    if reason is not None:
        text = message(
            "compat-not-evaluated",
            symbol=names,
            package=context.package,
            tag=tag.text,
            reason=reason,
            condition=tag.condition,
            version=tag.remove_at,
            window=context.window,
        )
        return [_finding(where, context, names, "compat-not-evaluated", text, severity="info")]
    if not retired(tag, floor):
        return []
    text = message(
        "compat-removable",
        package=context.package,
        fallback_for=tag.covers,
        floor=floor,
        remove_when=tag.remove_at,
        placement=fallback.placement,
        try_line=fallback.try_line,
    )
    out = [_finding(where, context, names, "compat-removable", text)]
    if fallback.placement != "handler":
        return out
    for stub_list in shim.stub_lists:
        listed = _stub_modules(repo, stub_list, context.roots)
        for body_import in fallback.imports:
            if listed is not None and body_import.module not in listed:
                text = message("stub-missing", module=body_import.module, stub_list=stub_list)
                at = (fallback.file, body_import.line, body_import.column)
                out.append(_finding(at, context, body_import.module, "stub-missing", text))
    return out
