"""Follows the API moves the audit proved for one package: imports to the new path, renamed keywords."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.files.config import Config
from bot.fix.compat_fix import UNREADABLE, Edits
from bot.model import FixResult, PackageAudit, Rewrite

if TYPE_CHECKING:
    from bot.fix.moves import Position

Read = Callable[[str], str]
KEYWORD_KINDS = ("keyword-deprecated", "keyword-removed")


def _plans(
    audit: PackageAudit, skip: frozenset[str]
) -> tuple[dict[str, dict[str, str]], dict[str, dict[Position, dict[str, str]]]]:
    """Per file: the proven moves (old path -> new) and keyword renames (call position -> old -> new)."""
    moves: dict[str, dict[str, str]] = {}
    renames: dict[str, dict[Position, dict[str, str]]] = {}
    for finding in audit.findings:
        if finding.replacement is None or finding.file in skip:
            continue
        old, new = finding.replacement
        if finding.kind == "moved":
            moves.setdefault(finding.file, {})[old] = new
        elif finding.kind in KEYWORD_KINDS:
            at = (finding.line, finding.column)
            renames.setdefault(finding.file, {}).setdefault(at, {})[old] = new
    return moves, renames


def api_fix(config: Config, audit: PackageAudit, *, read: Read) -> tuple[FixResult | None, Edits]:
    """Rewrite each import of a symbol the audit proved moved (one new public path, same kind and
    signature) and each keyword it proved renamed; nothing else. Shim files follow the shim rules."""
    shims = frozenset(f for s in config.compat.shims for f in s.files)
    moves, renames = _plans(audit, shims)
    if not moves and not renames:
        return None, Edits()
    from bot.fix.moves import move_imports, rename_keywords  # libcst: imported only for a proven rewrite

    edits = Edits()
    rewrites: list[Rewrite] = []
    for file in sorted({*moves, *renames}):
        try:
            text = edits.current(file, read)
            text, moved = move_imports(text, moves.get(file, {}))
            text, renamed = rename_keywords(text, renames.get(file, {}))
            compile(text, file, "exec", dont_inherit=True)
        except UNREADABLE:
            continue  # nothing is rewritten that does not parse before and after
        edits.after[file] = text
        rewrites += [Rewrite(file, d.line, "import", d.old, d.new) for d in moved]
        rewrites += [Rewrite(file, d.line, "keyword", d.old, d.new) for d in renamed]
    if not edits.changed():
        return None, edits
    rewrites.sort(key=lambda r: (r.file, r.line))
    return FixResult(audit.package, "api", audit.new, tuple(rewrites), edits.hunks()), edits
