"""Binds a call's shape (positional count, keyword names) to a parameter list, as Python would (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.audit.symbols import Param
from bot.audit.usage import Use

POSITIONAL = ("positional-only", "positional or keyword")


@dataclass(frozen=True)
class Problem:
    """Why a call does not fit: kind is too-many-positional, keyword-not-accepted or missing-required."""

    kind: str
    name: str = ""  # the keyword or parameter concerned
    index: int = -1  # for too-many-positional: the first positional argument that has no slot


@dataclass(frozen=True)
class Binding:
    """How one call binds to one signature."""

    problems: tuple[Problem, ...]
    named: frozenset[str]  # parameters the call fills explicitly
    via_kwargs: frozenset[str]  # keywords that only land in **kwargs

    @property
    def fits(self) -> bool:
        return not self.problems


def bind(params: tuple[Param, ...], use: Use) -> Binding:
    """Bind `use` to `params`. With `*args` or `**kwargs` in the call we only judge what is certain."""
    positional = [p for p in params if p.kind in POSITIONAL]
    by_name = {p.name: p for p in params if p.kind not in ("positional-only",) and "variadic" not in p.kind}
    var_positional = any(p.kind == "variadic positional" for p in params)
    var_keyword = any(p.kind == "variadic keyword" for p in params)
    problems: list[Problem] = []
    named = {p.name for p in positional[: use.positional]}
    if use.positional > len(positional) and not var_positional:
        problems.append(Problem("too-many-positional", index=len(positional)))
    via_kwargs: set[str] = set()
    for keyword in use.keywords:
        if keyword in by_name:
            named.add(keyword)
        elif var_keyword:
            via_kwargs.add(keyword)
        else:
            problems.append(Problem("keyword-not-accepted", keyword))
    if not use.star_args and not use.star_kwargs:
        for param in params:
            if param.default is None and "variadic" not in param.kind and param.name not in named:
                problems.append(Problem("missing-required", param.name))
    return Binding(tuple(problems), frozenset(named), frozenset(via_kwargs))
