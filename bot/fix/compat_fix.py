"""Step 10's deprecation pass for one package: prunes its shims' retired fallbacks, fixes the stub lists."""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.audit.compat_branches import Fallback, fallbacks_in
from bot.files.config import Config
from bot.files.repofiles import UnsafePathError
from bot.fix.hunks import first_changed_line, hunks
from bot.model import FixResult, Hunk, PackageAudit, Rewrite

Read = Callable[[str], str]
# What makes a file one a fix leaves alone: its finding stays for a person, the run goes on.
UNREADABLE = (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError, UnsafePathError)


@dataclass
class Edits:
    """The files one fix rewrites: their text before and after, in the order first touched."""

    before: dict[str, str] = field(default_factory=dict)
    after: dict[str, str] = field(default_factory=dict)

    def current(self, path: str, read: Read) -> str:
        if path not in self.after:
            self.before[path] = self.after[path] = read(path)
        return self.after[path]

    def changed(self) -> dict[str, str]:
        return {path: text for path, text in self.after.items() if text != self.before[path]}

    def hunks(self) -> tuple[Hunk, ...]:
        return tuple(h for path in self.changed() for h in hunks(path, self.before[path], self.after[path]))


def _retired(audit: PackageAudit, file: str, source: str) -> list[Fallback]:
    """The fallbacks of `file` the audit found removable that carry their own tag."""
    lines = {f.line for f in audit.findings if f.kind == "compat-removable" and f.file == file}
    found = fallbacks_in(source, file, audit.package, frozenset(audit.roots))
    return [fb for fb in found if fb.handler_line in lines and fb.placement == "handler"]


def _all_line(source: str) -> int:
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                return node.lineno
    return 1


def _prune_file(
    file: str, source: str, retired: Sequence[Fallback]
) -> tuple[str, list[Rewrite], list[str], bool]:
    """(new source, what went, the modules it made unconditional, whether plain re-exports are left)."""
    from bot.fix.prune import prune  # libcst: a quarter of a second to import, only when something goes

    pruned = prune(source, [(fb.try_line, fb.handler_index) for fb in retired])
    compile(pruned.source, file, "exec", dont_inherit=True)  # what does not compile is not written
    covers = {fb.handler_line: fb.tag.covers if fb.tag else None for fb in retired}
    rewrites = [
        Rewrite(file, fb.handler_line, "fallback", ", ".join(fb.names), covers[fb.handler_line] or "")
        for fb in retired
    ]
    for name, line in pruned.polyfills:
        branch = max((h for h in covers if h <= line), default=None)
        rewrites.append(Rewrite(file, line, "polyfill", name, (covers.get(branch) if branch else None) or ""))
    rewrites += [Rewrite(file, _all_line(source), "all", name) for name in pruned.unexported]
    rewrites += [Rewrite(file, line, "unused", name) for name, line in pruned.orphaned]
    unconditional = [
        body_import.module
        for fb in retired
        if fb.try_line in pruned.collapsed and all(index == -1 for _, index in fb.enclosing)
        for body_import in fb.imports
    ]
    return pruned.source, rewrites, unconditional, pruned.plain


def compat_fix(config: Config, audit: PackageAudit, *, read: Read) -> tuple[FixResult | None, Edits]:
    """Remove every tagged fallback of the package's shims that the audit found retired (their polyfills
    and `__all__` entries with them) and add the modules that became unconditional to the stub lists.
    Untagged branches and tags in a `try` body are never touched: they stay findings."""
    edits = Edits()
    rewrites: list[Rewrite] = []
    plain: list[str] = []
    roots = frozenset(audit.roots)
    for shim in (s for s in config.compat.shims if s.package == audit.package):
        unconditional: list[str] = []
        for file in shim.files:
            try:
                source = edits.current(file, read)
                retired = _retired(audit, file, source)
            except UNREADABLE:
                continue  # the audit reported the file; nothing here is proven
            if not retired:
                continue
            try:
                edits.after[file], done, modules, is_plain = _prune_file(file, source, retired)
            except UNREADABLE:
                continue
            rewrites += done
            unconditional += modules
            plain += [file] if is_plain else []
        for stub_list in shim.stub_lists if unconditional else ():
            rewrites += _add_to_stub_list(edits, stub_list, unconditional, roots, read=read)
    if not edits.changed():
        return None, edits
    result = FixResult(audit.package, "compat", audit.new, tuple(rewrites), edits.hunks(), tuple(plain))
    return result, edits


def _add_to_stub_list(
    edits: Edits, stub_list: str, modules: Sequence[str], roots: frozenset[str], *, read: Read
) -> list[Rewrite]:
    from bot.fix.stubs import add_stubs  # libcst, as in _prune_file

    try:
        source = edits.current(stub_list, read)
        text, added = add_stubs(source, modules, roots)
    except UNREADABLE:
        return []  # the audit's stub-missing finding stays for a person
    if not added:
        return []
    edits.after[stub_list] = text
    line = first_changed_line(source, text)
    return [Rewrite(stub_list, line, "stub", module) for module in added]
