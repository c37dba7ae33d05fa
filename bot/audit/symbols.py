"""What one dotted path is in one package version (the per-symbol JSON cache schema), read from griffe."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Status = Literal["found", "missing", "unknown"]
CACHE_SCHEMA = 3


@dataclass(frozen=True)
class Param:
    """One parameter: kind is griffe's ParameterKind value; default None means required."""

    name: str
    kind: str
    default: str | None
    value: str | None = None  # the default computed to a literal (repr) when it is a constant expression

    @property
    def compared(self) -> str | None:
        """What two versions' defaults are compared by: the value when known, else the text."""
        return self.value if self.value is not None else self.default


@dataclass(frozen=True)
class SymbolInfo:
    """What one dotted path is in one version: found (with its signature), missing, or unknown."""

    path: str
    status: Status
    kind: str = ""  # module, class, function, attribute
    target: str = ""  # where the definition lives once aliases are followed
    params: tuple[Param, ...] | None = None  # what a call binds to (a class: its __init__ minus self)
    bases: tuple[str, ...] = ()
    reason: str = ""
    decorators: tuple[str, ...] = ()  # as written, e.g. "deprecate_kwarg('old', new_name='new')"

    def signature(self) -> str:
        """`(a, b=1, *, c)` in Python's notation, for messages."""
        if self.params is None:
            return ""
        parts: list[str] = []
        seen_star = False
        for index, param in enumerate(self.params):
            if param.kind == "keyword-only" and not seen_star:
                parts.append("*")
                seen_star = True
            text = {"variadic positional": "*", "variadic keyword": "**"}.get(param.kind, "") + param.name
            seen_star = seen_star or param.kind == "variadic positional"
            parts.append(
                text if param.default is None or "variadic" in param.kind else f"{text}={param.default}"
            )
            following = self.params[index + 1] if index + 1 < len(self.params) else None
            if param.kind == "positional-only" and (following is None or following.kind != "positional-only"):
                parts.append("/")
        return f"({', '.join(parts)})"


def symbol_from_json(data: dict[str, Any]) -> SymbolInfo:
    params = data.get("params")
    return SymbolInfo(
        path=data["path"],
        status=data["status"],
        kind=data.get("kind", ""),
        target=data.get("target", ""),
        params=None if params is None else tuple(Param(**p) for p in params),
        bases=tuple(data.get("bases", ())),
        reason=data.get("reason", ""),
        decorators=tuple(data.get("decorators", ())),
    )


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


def publicness(dotted: str) -> tuple[int, int, str]:
    parts = dotted.split(".")
    return (sum(p.startswith("_") for p in parts), len(parts), dotted)


def params_of(function: Any, *, method: bool) -> tuple[Param, ...]:
    decorators = {str(d.value).split(".")[-1] for d in function.decorators}
    params = [
        Param(p.name, p.kind.value, None if p.default is None else str(p.default))
        for p in function.parameters
    ]
    if method and "staticmethod" not in decorators and params and "variadic" not in params[0].kind:
        params = params[1:]
    return tuple(params)


def dataclass_params(cls: Any) -> tuple[Param, ...]:
    """The generated `__init__` of a dataclass: annotated instance fields in order, `init=False` left out."""
    params = []
    for member in cls.members.values():
        if member.is_alias or member.kind.value != "attribute" or member.annotation is None:
            continue
        if "instance-attribute" not in member.labels:
            continue  # griffe unwraps ClassVar[...] and labels it a class attribute only
        default = _field_default(None if member.value is None else str(member.value))
        if default is _NOT_IN_INIT:
            continue
        params.append(Param(member.name, "positional or keyword", default))
    return tuple(params)


_NOT_IN_INIT = "\x00not-in-init"


def _field_default(value: str | None) -> str | None:
    """`field(default=8, metadata=...)` -> "8"; `field(default_factory=list)` -> "list()"; else as is."""
    if value is None:
        return None
    try:
        node = ast.parse(value, mode="eval").body
    except SyntaxError:
        return value
    if not (isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] == "field"):
        return value
    keywords = {k.arg: k.value for k in node.keywords if k.arg}
    init = keywords.get("init")
    if isinstance(init, ast.Constant) and init.value is False:
        return _NOT_IN_INIT
    if "default" in keywords:
        return ast.unparse(keywords["default"])
    if "default_factory" in keywords:
        return f"{ast.unparse(keywords['default_factory'])}()"
    return None
