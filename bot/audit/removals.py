"""What became of a name the new version lacks: where it moved to, or whether it is gone for sure."""

from __future__ import annotations

from bot.audit.apimodel import ApiModel
from bot.audit.sourcetext import publicness
from bot.audit.symbols import SymbolInfo


def _first_missing(symbol: str, new: ApiModel) -> str:
    """The shortest prefix of `symbol` that the new version lacks (what was really removed)."""
    parts = symbol.split(".")
    for cut in range(2, len(parts) + 1):
        prefix = ".".join(parts[:cut])
        if new.lookup(prefix).status == "missing":
            return prefix
    return symbol


def _new_home(removed: str, old_info: SymbolInfo, old: ApiModel, new: ApiModel) -> str | None:
    """Where the removed name lives now, most public first: a top-level re-export, then the other
    modules defining or re-exporting it (`pkg.engines.Engine` before `pkg._impl.engine.Engine`)."""
    parent, _, name = removed.rpartition(".")
    if old.lookup(parent).kind != "module":
        return None  # a method or attribute: no other module can be its new home
    if old_info.kind == "module":
        candidates = new.locate_module(name)
    else:
        defined = set(new.locate(name))
        # As public, the module that defines it before one that only imports it for its own use
        # (sglang 0.5.10: `utils.network` defines get_local_ip_auto, `disaggregation.encode_receiver`
        # imports it).
        modules = sorted(
            {*defined, *new.locate_bindings(name)}, key=lambda m: (*publicness(m)[:2], m not in defined, m)
        )
        candidates = [f"{new.root_of(removed)}.{name}"] + [f"{module}.{name}" for module in modules]
    for candidate in candidates:
        if candidate == removed:
            continue
        info = new.lookup(candidate)
        if info.status == "found" and (not old_info.kind or info.kind == old_info.kind):
            return candidate
    return None


def sole_home(removed: str, old: ApiModel, new: ApiModel) -> str | None:
    """The one public path of the new version where `removed` lives now (same kind, same signature),
    or None when there is none or more than one: only then may a fix rewrite the import to it."""
    parent, _, name = removed.rpartition(".")
    old_info = old.lookup(removed)
    if old_info.status != "found" or old.lookup(parent).kind != "module":
        return None
    if old_info.kind == "module":
        candidates = new.locate_module(name)
    else:
        modules = {*new.locate(name), *new.locate_bindings(name)}
        candidates = [f"{new.root_of(removed)}.{name}"] + [f"{module}.{name}" for module in modules]
    found = set()
    for candidate in candidates:
        if candidate == removed or publicness(candidate)[0]:
            continue
        info = new.lookup(candidate)
        if info.status == "found" and info.kind == old_info.kind and info.params == old_info.params:
            found.add(candidate)
    return found.pop() if len(found) == 1 else None


def gone_to(symbol: str, old: ApiModel, new: ApiModel) -> tuple[str, str | None]:
    """(what the new version lacks, its new location or None) for a `symbol` it cannot find.

    When a whole module is gone, what the repository imported from it may live on elsewhere: then
    the finding is about that name and where it went (`pkg.utils.Engine` -> `pkg.engines.Engine`),
    not about the module.
    """
    removed = _first_missing(symbol, new)
    removed_old = old.lookup(removed)
    home = _new_home(removed, removed_old, old, new)
    if home is None and removed_old.kind == "module" and symbol != removed:
        child = f"{removed}.{symbol[len(removed) + 1 :].split('.')[0].removesuffix('()')}"
        child_old = old.lookup(child)
        child_home = _new_home(child, child_old, old, new) if child_old.status == "found" else None
        if child_home is not None:
            return child, child_home
    return removed, home


def dropped_import(symbol: str, old: ApiModel, new: ApiModel) -> tuple[str, str] | None:
    """(name, where the old version imported it from) when the old version bound a prefix of `symbol`
    by importing it from another distribution and the new version binds it nowhere.

    What such a name is cannot be read from this distribution, but that `from package import name`
    worked and no longer can is certain: no assignment, import, `__all__` entry, wildcard import or
    module `__getattr__` of the new version binds it.
    """
    parts = symbol.split(".")
    for cut in range(2, len(parts) + 1):
        prefix = ".".join(parts[:cut])
        info = old.lookup(prefix)
        if info.status == "found":
            continue
        if info.status == "unknown" and info.imported_from and new.lookup(prefix).status == "missing":
            return prefix, info.imported_from
        return None
    return None
