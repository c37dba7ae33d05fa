"""Edits list, tuple and set literals of strings in a concrete syntax tree, keeping their layout (pure)."""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterable

import libcst as cst

Literal_ = cst.List | cst.Tuple | cst.Set


def strings_of(node: cst.BaseExpression) -> list[str]:
    """The plain string values a literal holds, in order (other elements are skipped)."""
    if not isinstance(node, Literal_):
        return []
    return [
        value
        for element in node.elements
        if isinstance(element.value, cst.SimpleString)
        and isinstance(value := element.value.evaluated_value, str)
    ]


def _value(element: cst.BaseElement) -> str | None:
    if isinstance(element.value, cst.SimpleString) and isinstance(element.value.evaluated_value, str):
        return element.value.evaluated_value
    return None


def without_strings(node: cst.BaseExpression, names: frozenset[str]) -> cst.BaseExpression:
    """`node` without the string elements in `names`; the last element left keeps the trailing comma
    (or its absence) of the last element before."""
    if not isinstance(node, Literal_):
        return node
    elements = list(node.elements)
    kept = [e for e in elements if _value(e) not in names]
    if len(kept) == len(elements):
        return node
    if kept and elements:
        kept[-1] = kept[-1].with_changes(comma=elements[-1].comma)
    if isinstance(node, cst.Tuple) and len(kept) == 1 and not isinstance(kept[0].comma, cst.Comma):
        kept[0] = kept[0].with_changes(comma=cst.Comma())  # `("a",)` stays a tuple
    return node.with_changes(elements=kept)


def with_strings(node: Literal_, values: Iterable[str]) -> Literal_:
    """`node` with `values` added: in order when its strings are sorted, else at the end; each new
    element is written as its neighbours are (quotes, commas, one per line or not)."""
    elements = list(node.elements)
    strings = [e for e in elements if _value(e) is not None]
    quote = '"'
    if strings and isinstance(strings[0].value, cst.SimpleString):
        quote = strings[0].value.quote
    middle = next(
        (e.comma for e in elements[:-1] if isinstance(e.comma, cst.Comma)),
        cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
    )
    present = [_value(e) for e in elements]
    ordered = all(a is not None and b is not None and a <= b for a, b in itertools.pairwise(present))
    for value in values:
        new = cst.Element(cst.SimpleString(f"{quote}{value}{quote}"), comma=middle)
        current = [_value(e) for e in elements]
        at = len(elements)
        if ordered:
            at = next((i for i, v in enumerate(current) if v is not None and v > value), len(elements))
        if at == len(elements) and elements:
            last = elements[-1]
            new = new.with_changes(comma=last.comma)
            elements[-1] = last.with_changes(comma=middle)
        elif not elements:
            new = new.with_changes(comma=cst.MaybeSentinel.DEFAULT)
        elements.insert(at, new)
    return node.with_changes(elements=elements)


# libcst's parser recurses natively: nesting past what real code needs costs it quadratic time, and
# past what CPython's parser accepts, its stack. Such a file is checked with `ast` first, and left alone.
MAX_DEPTH = 200
MAX_CHARS = 2_000_000


def _depth(tree: ast.AST) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack += [(child, depth + 1) for child in ast.iter_child_nodes(node)]
    return deepest


def parse(source: str) -> cst.Module:
    """The concrete syntax tree of `source`; a file `ast` rejects, or one too large or too deeply
    nested to rewrite in bounded time, raises SyntaxError or ValueError instead."""
    if len(source) > MAX_CHARS:
        raise ValueError(f"{len(source)} characters: too large to rewrite")
    if _depth(ast.parse(source)) > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels: not rewritten")
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        raise SyntaxError(str(exc)) from None
