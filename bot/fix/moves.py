"""Rewrites imports of moved symbols to their new path and renamed keywords at call sites (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import MetadataWrapper, PositionProvider

from bot.fix.cstlists import parse

Position = tuple[int, int]  # (line, 1-based column as `ast` counts it: UTF-8 bytes)


@dataclass(frozen=True)
class Done:
    """One rewrite made: where (in the old source), what, and into what."""

    line: int
    old: str
    new: str


def _module_of(path: str) -> tuple[str, str]:
    module, _, name = path.rpartition(".")
    return module, name


def _dotted(module: str) -> cst.Attribute | cst.Name:
    expression = cst.parse_expression(module)
    assert isinstance(expression, cst.Attribute | cst.Name)  # noqa: S101 - a dotted name parses so
    return expression


class _Mover(cst.CSTTransformer):
    """`from old import X` -> `from new import X`: the whole statement when every name it imports
    goes to one module, else the moved names leave it for statements of their own right after."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, moves: Mapping[str, str]) -> None:
        super().__init__()
        self.moves = moves
        self.done: list[Done] = []
        self.fallback = 0  # depth of `try`s with handlers: their imports follow the shim rules

    def visit_Try(self, node: cst.Try) -> None:
        self.fallback += bool(node.handlers)

    def leave_Try(self, original_node: cst.Try, updated_node: cst.Try) -> cst.Try:
        self.fallback -= bool(original_node.handlers)
        return updated_node

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        statement = updated_node.body[0] if len(updated_node.body) == 1 else None
        if self.fallback or not isinstance(statement, cst.ImportFrom) or statement.relative:
            return updated_node
        if statement.module is None or isinstance(statement.names, cst.ImportStar):
            return updated_node
        module = get_full_name_for_node(statement.module) or ""
        line = self.get_metadata(PositionProvider, original_node).start.line
        targets = {a.evaluated_name: self.moves.get(f"{module}.{a.evaluated_name}") for a in statement.names}
        moved = {name: new for name, new in targets.items() if new is not None}
        if not moved:
            return updated_node
        self.done += [Done(line, f"{module}.{name}", new) for name, new in moved.items()]
        homes = {_module_of(new)[0] for new in moved.values()}
        same_names = all(_module_of(new)[1] == name for name, new in moved.items())
        if len(moved) == len(targets) and len(homes) == 1 and same_names:
            return updated_node.with_changes(body=[statement.with_changes(module=_dotted(homes.pop()))])
        return _split(updated_node, statement, moved)


def _split(
    line: cst.SimpleStatementLine, statement: cst.ImportFrom, moved: Mapping[str, str]
) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
    """The statement without the moved names, then one `from new import name [as alias]` per home."""
    assert not isinstance(statement.names, cst.ImportStar)  # noqa: S101 - the caller checked
    kept = [a for a in statement.names if a.evaluated_name not in moved]
    by_home: dict[str, list[cst.ImportAlias]] = {}
    for alias in statement.names:
        if alias.evaluated_name not in moved:
            continue
        home, name = _module_of(moved[alias.evaluated_name])
        local = alias.evaluated_alias or alias.evaluated_name
        asname = None if local == name else cst.AsName(name=cst.Name(local))
        by_home.setdefault(home, []).append(cst.ImportAlias(name=cst.Name(name), asname=asname))
    added = [
        cst.SimpleStatementLine(body=[cst.ImportFrom(module=_dotted(home), names=_commas(aliases))])
        for home, aliases in by_home.items()
    ]
    if not kept:
        first = added[0].with_changes(
            leading_lines=line.leading_lines, trailing_whitespace=line.trailing_whitespace
        )
        return cst.FlattenSentinel([first, *added[1:]])
    kept[-1] = kept[-1].with_changes(comma=statement.names[-1].comma)
    if statement.lpar is None and isinstance(kept[-1].comma, cst.Comma):
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    stripped = line.with_changes(body=[statement.with_changes(names=kept)])
    return cst.FlattenSentinel([stripped, *added])


def _commas(aliases: list[cst.ImportAlias]) -> list[cst.ImportAlias]:
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return [a.with_changes(comma=comma) for a in aliases[:-1]] + aliases[-1:]


def move_imports(source: str, moves: Mapping[str, str]) -> tuple[str, list[Done]]:
    """`source` with every `from module import name` whose `module.name` is a key of `moves`
    importing from the new path instead (outside `except` clauses)."""
    mover = _Mover(moves)
    code = MetadataWrapper(parse(source)).visit(mover).code
    return code, mover.done


class _Renamer(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, lines: list[str], renames: Mapping[Position, Mapping[str, str]]) -> None:
        super().__init__()
        self.lines = lines
        self.renames = renames
        self.done: list[Done] = []

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        start = self.get_metadata(PositionProvider, original_node.func).start
        text = self.lines[start.line - 1] if start.line <= len(self.lines) else ""
        position = (start.line, len(text[: start.column].encode()) + 1)
        wanted = self.renames.get(position)
        if not wanted:
            return updated_node
        given = {a.keyword.value for a in updated_node.args if a.keyword is not None}
        args = []
        for arg in updated_node.args:
            old = arg.keyword.value if arg.keyword is not None else None
            new = wanted.get(old) if old is not None else None
            if new is not None and new not in given:
                arg = arg.with_changes(keyword=cst.Name(new))
                self.done.append(Done(start.line, old or "", new))
            args.append(arg)
        return updated_node.with_changes(args=args)


def rename_keywords(source: str, renames: Mapping[Position, Mapping[str, str]]) -> tuple[str, list[Done]]:
    """`source` with, at each call whose callee starts at a position of `renames`, the keywords
    renamed as it maps them (old -> new); a call already passing the new name is left alone."""
    renamer = _Renamer(source.splitlines(), renames)
    code = MetadataWrapper(parse(source)).visit(renamer).code
    return code, renamer.done
