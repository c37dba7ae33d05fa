"""Evaluates a default value's source text to a literal, following module constants (pure, no code run)."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable

Lookup = Callable[[str], str | None]  # a name -> the source text of its value, or None
_BINARY: dict[type[ast.operator], Callable[[object, object], object]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.LShift: operator.lshift,
    ast.BitOr: operator.or_,
}


class _Unknown(Exception):
    """The expression is not a constant we can compute safely."""


def evaluate(text: str, lookup: Lookup, *, depth: int = 0) -> str | None:
    """`repr` of the value `text` denotes (`2 ** 16`, `DEFAULT_CHUNK_SIZE` -> `65536`), else None."""
    try:
        return repr(_value(ast.parse(text, mode="eval").body, lookup, depth))
    except (_Unknown, SyntaxError, ValueError, TypeError, ZeroDivisionError, OverflowError, RecursionError):
        return None


def _value(node: ast.expr, lookup: Lookup, depth: int) -> object:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple | ast.List):
        items = tuple(_value(item, lookup, depth) for item in node.elts)
        return items if isinstance(node, ast.Tuple) else list(items)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd | ast.Not):
        operand = _value(node.operand, lookup, depth)
        if isinstance(node.op, ast.Not):
            return not operand
        return -operand if isinstance(node.op, ast.USub) else +operand  # type: ignore[operator]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _value(node.left, lookup, depth), _value(node.right, lookup, depth)
        if isinstance(node.op, ast.Pow | ast.LShift) and (not isinstance(right, int) or abs(right) > 128):
            raise _Unknown  # keep the arithmetic small: these are defaults, not computations
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.Name | ast.Attribute) and depth < 4:
        text = lookup(ast.unparse(node))
        if text is None:
            raise _Unknown
        return _value(ast.parse(text, mode="eval").body, lookup, depth + 1)
    raise _Unknown
