"""Finds a compat shim's fallback branches (`except ImportError:` of a `try` importing the package) and
the tag each carries, located exactly enough for a later pass to prune them (pure over source text)."""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from bot.audit.compat_tags import Tag, read_tag
from bot.files.python_sources import matches

# What a fallback for a missing module or name catches (Dynamo's shim re-raises other
# ModuleNotFoundErrors by hand; `except Exception` and bare `except` catch them too).
IMPORT_ERRORS = frozenset(
    {"ImportError", "ModuleNotFoundError", "Exception", "BaseException", "AttributeError"}
)


@dataclass(frozen=True)
class BodyImport:
    """A package module the `try` body imports outside nested `try`s: unconditional once the fallback goes."""

    module: str
    line: int
    column: int  # 1-based


@dataclass(frozen=True)
class Fallback:
    """One `except` clause of a `try` whose body imports the package: a branch the N / N-1 window retires.

    A `try` is identified by its first line (one `try` begins on a line), the clause by its position
    among the `try`'s handlers; lines are 1-based and inclusive. `enclosing` says where the `try` sits
    among other compat blocks, outermost first: (line of that `try`, index of the handler it is in, or
    -1 for its body). A tag in the `try` body may retire either side of the block (Dynamo's shim
    prefers a new API there until the floor makes the old one safe); only the handler's own tag
    (`placement` "handler") says that the handler is what goes.
    """

    file: str
    try_line: int
    try_end_line: int
    handler_index: int
    handler_line: int
    handler_column: int  # 1-based column of `except`
    handler_end_line: int
    catches: tuple[str, ...]  # the exception names, as written ("" for a bare except)
    imports: tuple[BodyImport, ...]
    names: tuple[str, ...]  # what the body's imports bind
    enclosing: tuple[tuple[int, int], ...]
    tag: Tag | None
    placement: Literal["handler", "body"] | None  # where the tag is: the clause itself, or the `try` body


def _comment_blocks(source: str) -> list[tuple[int, int, str]]:
    """(first line, last line, text): runs of whole-line comments, and each comment after code alone."""
    blocks: list[tuple[int, int, str]] = []
    lines = source.splitlines()
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return blocks
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        row, col = token.start
        text = token.string.lstrip("#").strip()
        whole_line = not lines[row - 1][:col].strip()
        if whole_line and blocks and blocks[-1][1] == row - 1 and _whole(lines, blocks[-1]):
            first, _, before = blocks[-1]
            blocks[-1] = (first, row, f"{before} {text}".strip())
        else:
            blocks.append((row, row, text))
    return blocks


def _whole(lines: list[str], block: tuple[int, int, str]) -> bool:
    """The block's last line holds only a comment (a comment after code is a block of its own)."""
    return lines[block[1] - 1].lstrip().startswith("#")


def _catches(handler: ast.ExceptHandler) -> tuple[str, ...]:
    if handler.type is None:
        return ("",)
    nodes = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return tuple(n.id if isinstance(n, ast.Name) else ast.unparse(n) for n in nodes)


def _nested_tries(body: list[ast.stmt]) -> list[ast.Try]:
    return [node for stmt in body for node in ast.walk(stmt) if isinstance(node, ast.Try)]


def _direct_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports in `body` that are not inside a nested `try` (nor a function or class)."""
    stack = list(body)
    while stack:
        node = stack.pop(0)
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If | ast.With):
            stack.extend([*node.body, *getattr(node, "orelse", [])])


def _modules(stmt: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(stmt, ast.ImportFrom):
        return [stmt.module] if stmt.module and not stmt.level else []
    return [alias.name for alias in stmt.names]


def _imports_package(body: list[ast.stmt], roots: frozenset[str]) -> bool:
    return any(
        isinstance(node, ast.Import | ast.ImportFrom) and any(matches(m, roots) for m in _modules(node))
        for stmt in body
        for node in ast.walk(stmt)
    )


def _tag_in(
    blocks: list[tuple[int, int, str]], span: tuple[int, int], skip: list[ast.Try], package: str
) -> Tag | None:
    """The first tag among the comments in `span` (inclusive) outside the nested `try`s in `skip`."""
    first, last = span
    for start, end, text in blocks:
        if start < first or end > last:
            continue
        if any(t.lineno <= start and end <= (t.end_lineno or t.lineno) for t in skip):
            continue  # a nested try's own comment
        tag = read_tag(text, package, line=start, end_line=end)
        if tag is not None:
            return tag
    return None


def fallbacks_in(source: str, file: str, package: str, roots: frozenset[str]) -> list[Fallback]:
    """Every fallback branch in one shim file, in source order, with its tag (or None: untagged)."""
    try:
        tree = ast.parse(source, filename=file)
    except (SyntaxError, ValueError):
        return []
    blocks = _comment_blocks(source)
    found: list[Fallback] = []

    def visit(node: ast.AST, enclosing: tuple[tuple[int, int], ...]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Try):
                found.extend(_branches(child, enclosing, blocks, file=file, package=package, roots=roots))
                for block in (child.body, child.orelse, child.finalbody):
                    for stmt in block:
                        visit(stmt, (*enclosing, (child.lineno, -1)))
                for index, handler in enumerate(child.handlers):
                    visit(handler, (*enclosing, (child.lineno, index)))
            else:
                visit(child, enclosing)

    visit(tree, ())
    return found


def _branches(
    node: ast.Try,
    enclosing: tuple[tuple[int, int], ...],
    blocks: list[tuple[int, int, str]],
    *,
    file: str,
    package: str,
    roots: frozenset[str],
) -> list[Fallback]:
    """The fallback branches of one `try`: its handlers that catch what a failed import raises."""
    if not node.handlers or not _imports_package(node.body, roots):
        return []
    direct = [s for s in _direct_imports(node.body) if any(matches(m, roots) for m in _modules(s))]
    imports = tuple(
        BodyImport(m, s.lineno, s.col_offset + 1) for s in direct for m in _modules(s) if matches(m, roots)
    )
    names = tuple(dict.fromkeys(a.asname or a.name for s in direct for a in s.names))
    body_span = (node.lineno, node.handlers[0].lineno - 1)
    body_tag = _tag_in(blocks, body_span, _nested_tries(node.body), package)
    out = []
    for index, handler in enumerate(node.handlers):
        catches = _catches(handler)
        if not any(name.split(".")[-1] in IMPORT_ERRORS or not name for name in catches):
            continue
        span = (handler.lineno, handler.end_lineno or handler.lineno)
        tag = _tag_in(blocks, span, _nested_tries(handler.body), package)
        placement: Literal["handler", "body"] | None = "handler" if tag else ("body" if body_tag else None)
        out.append(
            Fallback(
                file=file,
                try_line=node.lineno,
                try_end_line=node.end_lineno or node.lineno,
                handler_index=index,
                handler_line=handler.lineno,
                handler_column=handler.col_offset + 1,
                handler_end_line=span[1],
                catches=catches,
                imports=imports,
                names=names,
                enclosing=enclosing,
                tag=tag or body_tag,
                placement=placement,
            )
        )
    return out
