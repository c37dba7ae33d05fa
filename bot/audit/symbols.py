"""What one dotted path is in one package version (the per-symbol JSON cache schema), read from griffe."""

from __future__ import annotations

import ast
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

Status = Literal["found", "missing", "unknown"]
CACHE_SCHEMA = 5


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
    imported_from: str = ""  # unknown because the module imports it from another distribution: from where

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
        imported_from=data.get("imported_from", ""),
    )


def load_cache(path: Path) -> tuple[dict[str, SymbolInfo], dict[str, list[str]]]:
    """The cached symbols and locations of one distribution; empty when absent, stale or corrupt."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, {}
    if not isinstance(data, dict) or data.get("schema") != CACHE_SCHEMA:
        return {}, {}
    try:
        symbols = {k: symbol_from_json(v) for k, v in data.get("symbols", {}).items()}
        locations = {k: list(v) for k, v in data.get("locations", {}).items()}
    except (KeyError, TypeError):
        return {}, {}
    return symbols, locations


def save_cache(path: Path, symbols: dict[str, SymbolInfo], locations: dict[str, list[str]]) -> None:
    """Write the cache; a failed write (read-only or full disk) only costs time on the next run."""
    payload = {
        "schema": CACHE_SCHEMA,
        "symbols": {k: asdict(v) for k, v in sorted(symbols.items())},
        "locations": locations,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A private temporary file replaced atomically: concurrent jobs may race, never corrupt.
        handle, name = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(payload, out, sort_keys=True)
        Path(name).replace(path)
    except OSError:
        return


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
