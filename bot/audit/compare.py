"""Compares each used symbol's old and new API and turns what breaks this repository into Findings."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.audit.apimodel import ApiModel
from bot.audit.binding import POSITIONAL, Binding, bind
from bot.audit.messages import message
from bot.audit.removals import dropped_import, gone_to, sole_home
from bot.audit.symbols import Param, SymbolInfo
from bot.audit.usage import Use
from bot.model import Finding

CatalogLookup = Callable[[str], str | None]
Said = tuple[str, str, str, tuple[str, str] | None]  # (kind, severity, message, proven replacement) at a call


@dataclass(frozen=True)
class Versions:
    """The package and the two versions compared, for messages."""

    package: str
    old: str
    new: str


@dataclass(frozen=True)
class _Site:
    """One use being compared: what every finding at it is reported with."""

    use: Use
    versions: Versions
    catalog: CatalogLookup
    old_info: SymbolInfo | None
    new_info: SymbolInfo | None

    def finding(
        self, symbol: str, kind: str, severity: str, text: str, replacement: tuple[str, str] | None = None
    ) -> Finding:
        use, old_info, new_info = self.use, self.old_info, self.new_info
        return Finding(
            file=use.file,
            line=use.line,
            column=use.column,
            package=self.versions.package,
            symbol=symbol,
            kind=kind,
            severity=severity,  # type: ignore[arg-type]
            message=text,
            old_signature=old_info.signature() or None if old_info else None,
            new_signature=new_info.signature() or None if new_info else None,
            catalog_entry=self.catalog(symbol),
            replacement=replacement,
        )


def _dropped_finding(
    use: Use, versions: Versions, catalog: CatalogLookup, dropped: tuple[str, str]
) -> Finding:
    name, origin = dropped
    text = message(
        "removed",
        symbol=name,
        package=versions.package,
        old=versions.old,
        new=versions.new,
        use_kind=use.kind,
        origin=origin,
    )
    return _Site(use, versions, catalog, None, None).finding(name, "removed", "error", text)


_SENTINEL = re.compile(
    r"^_|^[A-Za-z_.]*(UNSET|Unset|MISSING|Missing|UNDEFINED|Undefined|SENTINEL|Sentinel|NOT_?SET)"
)


def _real_default(value: str | None) -> bool:
    """A default a caller relies on; private sentinels (`_Unset`, `PydanticUndefined`) only mean
    "not given" and changing one for another is not a behaviour change the call can see."""
    return value is not None and _SENTINEL.match(value.split(".")[-1]) is None


def _shown_default(param: Param) -> str:
    """The default as written, with its computed value when that says more (`DEFAULT_CHUNK_SIZE (262144)`)."""
    text = param.default or ""
    return f"{text} ({param.value})" if param.value is not None and param.value != text else text


def _display(symbol: str, old: ApiModel) -> str:
    """How a use path reads in a finding: an instance's method is the class's (`pkg.Client.send`),
    a context manager that returns itself is the object (`with pkg.Client() as c: c.get` ->
    `pkg.Client.get`); a function's result keeps its `()`, since `pkg.load().fit` is a method of
    what `load` returns."""
    for enter in (".__enter__()", ".__aenter__()"):
        head, found, tail = symbol.partition(enter)
        if found and old.lookup(head + enter).target == old.lookup(head).target:
            symbol = head + tail
    parts = symbol.split(".")
    for index, part in enumerate(parts):
        if part.endswith("()"):
            prefix = ".".join([*parts[:index], part[:-2]])
            if old.lookup(prefix).kind == "class":
                parts[index] = part[:-2]
    return ".".join(parts)


def _renamed(old: tuple[Param, ...], new: tuple[Param, ...], name: str) -> str | None:
    """The new parameter at the old one's position when it is a name the old signature lacked."""
    old_names = [p.name for p in old]
    old_set = set(old_names)
    if name not in old_names:
        return None
    index = old_names.index(name)
    if index < len(new) and new[index].name not in old_set and "variadic" not in new[index].kind:
        return new[index].name
    return None


def _only_renamed(old: tuple[Param, ...], new: tuple[Param, ...], name: str) -> bool:
    """The two signatures differ by exactly the name of parameter `name`: same kinds, same defaults."""
    if len(old) != len(new):
        return False
    differ = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
    return (
        len(differ) == 1
        and differ[0][0].name == name
        and (differ[0][0].kind, differ[0][0].default) == (differ[0][1].kind, differ[0][1].default)
    )


def _handled_by_decorator(info: SymbolInfo, name: str) -> bool:
    """A decorator that names the keyword (transformers' `@deprecate_kwarg("old", ...)`) still maps it."""
    quoted = (f"'{name}'", f'"{name}"')
    return any(q in decorator for decorator in info.decorators for q in quoted)


def compare_uses(
    uses: Sequence[Use],
    old: ApiModel,
    new: ApiModel,
    versions: Versions,
    *,
    catalog: CatalogLookup,
) -> tuple[list[Finding], list[tuple[str, str]]]:
    """Findings for every use whose meaning changes, and the module moves seen (old path, new path)."""
    findings: list[Finding] = []
    moves: dict[str, str] = {}
    reported: set[tuple[str, str]] = set()
    for use in uses:
        old_info = old.lookup(use.symbol)
        if old_info.status != "found":
            # Not something we can read in the old version: never guess, with one exception.
            dropped = None if use.guarded else dropped_import(use.symbol, old, new)
            if dropped is not None and (use.file, dropped[0]) not in reported:
                reported.add((use.file, dropped[0]))
                findings.append(_dropped_finding(use, versions, catalog, dropped))
            continue
        new_info = new.lookup(use.symbol)
        if new_info.status == "unknown":
            continue
        site = _Site(use, versions, catalog, old_info, new_info)
        if new_info.status == "missing":
            # A try/except ImportError fallback already handles the absence.
            if not use.guarded:
                findings.extend(_missing_finding(site, old, new, reported=reported, moves=moves))
            continue
        if use.kind == "call" and old_info.params is not None and new_info.params is not None:
            findings.extend(_call_findings(site, old_model=old))
        if use.kind == "subclass" and old_info.kind == new_info.kind == "class":
            findings.extend(_lost_bases(site))
    return findings, sorted(moves.items())


def _missing_finding(
    site: _Site, old: ApiModel, new: ApiModel, *, reported: set[tuple[str, str]], moves: dict[str, str]
) -> list[Finding]:
    """The use's symbol is gone: removed, or moved to a new public home (recorded in `moves`);
    once per file and missing name."""
    use, versions = site.use, site.versions
    removed, home = gone_to(use.symbol, old, new)
    if (use.file, removed) in reported:
        return []
    reported.add((use.file, removed))
    kind = "base-removed" if use.kind == "subclass" else ("moved" if home else "removed")
    if home:
        moves[removed] = home
    shown = _display(removed, old)
    text = message(
        kind, symbol=shown, target=home, package=versions.package, new=versions.new, use_kind=use.kind,
        fallback=use.fallback,
    )  # fmt: skip
    gone = _Site(use, versions, site.catalog, site.old_info, None)
    proven = sole_home(removed, old, new) if home and use.kind == "import" and shown == removed else None
    proven_move = (removed, home) if home is not None and proven == home else None
    # Behind a `try` with an `except ImportError:` nothing breaks: the fallback runs instead, which a
    # person should know (it may be the old API, or a stand-in that turns a feature off).
    severity = "warning" if use.fallback else "error"
    return [gone.finding(shown, kind, severity, text, proven_move)]


def _lost_bases(site: _Site) -> list[Finding]:
    """A class the repository subclasses stopped deriving from one of its bases (compared by name,
    since a base that merely moved keeps its name)."""
    use, versions, old_info, new_info = site.use, site.versions, site.old_info, site.new_info
    # The caller makes a site only for a symbol found in both versions.
    assert old_info is not None  # noqa: S101 - narrows for mypy
    assert new_info is not None  # noqa: S101 - narrows for mypy
    kept = {base.rsplit(".", 1)[-1] for base in new_info.bases}
    out = []
    for base in old_info.bases:
        if base.rsplit(".", 1)[-1] not in kept:
            text = message(
                "base-dropped", symbol=use.symbol, base=base, package=versions.package, new=versions.new
            )
            out.append(site.finding(use.symbol, "base-removed", "warning", text))
    return out


def _call_findings(site: _Site, *, old_model: ApiModel) -> list[Finding]:
    """What breaks or changes at one call: its binding to the new signature, keywords now caught by
    `**kwargs`, defaults it relies on that moved."""
    use, old_info, new_info, versions = site.use, site.old_info, site.new_info, site.versions
    # The caller makes a call site only for a callable found in both versions.
    assert old_info is not None  # noqa: S101 - narrows for mypy
    assert new_info is not None  # noqa: S101 - narrows for mypy
    assert old_info.params is not None  # noqa: S101 - narrows for mypy
    assert new_info.params is not None  # noqa: S101 - narrows for mypy
    old_params, new_params = old_info.params, new_info.params
    before, after = bind(old_params, use), bind(new_params, use)
    if not before.fits:
        return []  # the call did not fit the old signature as we read it: our model is not to be trusted here
    shown = _display(use.symbol, old_model)
    common = {"package": versions.package, "new": versions.new, "symbol": shown}
    out = _binding_problems(use, new_info, old_params, after, common)
    catch_all = next((p.name for p in new_params if p.kind == "variadic keyword"), "kwargs")
    for name in sorted(after.via_kwargs - before.via_kwargs):
        text = message("keyword-removed", severity="warning", name=name, catch_all=catch_all, **common)
        out.append(("keyword-removed", "warning", text, None))
    if after.fits and not use.star_kwargs and not use.star_args:
        out += _changed_defaults(old_params, new_params, after, common)
    return [site.finding(shown, kind, severity, text, proven) for kind, severity, text, proven in out]


def _binding_problems(
    use: Use, new_info: SymbolInfo, old_params: tuple[Param, ...], after: Binding, common: dict[str, str]
) -> list[Said]:
    """Why the call no longer binds: keywords gone or now positional-only, too many positional
    arguments, new required parameters."""
    new_params = new_info.params or ()
    out: list[Said] = []
    explained: set[str] = set()  # parameters a kind change already accounts for
    old_by_name = {p.name: p for p in old_params}
    new_by_name = {p.name: p for p in new_params}
    for problem in after.problems:
        if problem.kind == "keyword-not-accepted":
            moved_kind = new_by_name.get(problem.name)
            if moved_kind is not None:  # still there, now positional-only
                explained.add(problem.name)
                text = message(
                    "parameter-kind-changed",
                    name=problem.name,
                    new_kind=moved_kind.kind,
                    old_kind=old_by_name[problem.name].kind,
                    by_keyword=True,
                    **common,
                )
                out.append(("parameter-kind-changed", "error", text, None))
            elif _handled_by_decorator(new_info, problem.name):
                renamed = _renamed(old_params, new_params, problem.name)
                text = message("keyword-deprecated", name=problem.name, renamed=renamed, **common)
                proven = (problem.name, renamed) if renamed else None
                out.append(("keyword-deprecated", "warning", text, proven))
            else:
                renamed = _renamed(old_params, new_params, problem.name)
                text = message(
                    "keyword-removed", severity="error", name=problem.name, renamed=renamed, **common
                )
                only = renamed is not None and _only_renamed(old_params, new_params, problem.name)
                proven = (problem.name, renamed) if only and renamed else None
                out.append(("keyword-removed", "error", text, proven))
        elif problem.kind == "too-many-positional":
            old_positional = [p for p in old_params if p.kind in POSITIONAL]
            shifted = old_positional[problem.index] if problem.index < len(old_positional) else None
            now = new_by_name.get(shifted.name) if shifted else None
            if shifted is not None and now is not None and now.kind == "keyword-only":
                explained.add(shifted.name)
                text = message(
                    "parameter-kind-changed",
                    name=shifted.name,
                    new_kind=now.kind,
                    old_kind=shifted.kind,
                    by_keyword=False,
                    **common,
                )
                out.append(("parameter-kind-changed", "error", text, None))
            else:
                limit = sum(p.kind in POSITIONAL for p in new_params)
                text = message("too-many-positional", limit=limit, given=use.positional, **common)
                out.append(("too-many-positional", "error", text, None))
        elif problem.name not in explained:
            text = message("new-required", name=problem.name, **common)
            out.append(("new-required", "error", text, None))
    return out


def _changed_defaults(
    old_params: tuple[Param, ...], new_params: tuple[Param, ...], after: Binding, common: dict[str, str]
) -> list[Said]:
    """One note per call, however many of the defaults it relies on moved."""
    old_by_name = {p.name: p for p in old_params}
    changed = [
        (param.name, _shown_default(old_by_name[param.name]), _shown_default(param))
        for param in new_params
        if param.name not in after.named
        and param.name in old_by_name
        and _real_default(old_by_name[param.name].default)
        and _real_default(param.default)
        and old_by_name[param.name].compared != param.compared
    ]
    if not changed:
        return []
    return [("default-changed", "info", message("default-changed", changed=changed, **common), None)]
