"""Infers a package's import root from its checklist: upstream paths, catalog module paths."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from packaging.utils import canonicalize_name

from checklists.document import Checklist

# Directories upstream repositories keep their package in (`src/peft/`, `python/sglang/`): a path
# starts with the package only after them.
_LAYOUT = frozenset({"src", "python", "lib", "py", "source", "sources", "pkg", "packages"})
_SUFFIXES = (".py", ".pyi")


def _words(package: str) -> list[str]:
    return [w for w in re.split(r"[-_.]+", canonicalize_name(package)) if w]


def _from_path(path: str) -> list[str]:
    """`python/sglang/srt/utils/__init__.py` -> sglang srt utils, before anchoring: every component."""
    parts = [p for p in path.strip().strip("`").split("/") if p and p != "."]
    if parts and parts[-1].endswith(_SUFFIXES):
        parts[-1] = parts[-1].rsplit(".", 1)[0]
        if parts[-1] == "__init__":
            parts.pop()
    return parts


def _anchored(parts: Sequence[str], names: frozenset[str]) -> list[str]:
    """The components from the package's own directory on: after the first one the package's name
    spells, else after the layout directories an upstream repository keeps its code in."""
    for index, part in enumerate(parts):
        if part.lower() in names:
            return list(parts[index:])
    index = 0
    while index < len(parts) and parts[index].lower() in _LAYOUT:
        index += 1
    return list(parts[index:])


def _evidence(checklist: Checklist) -> tuple[list[str], list[str]]:
    """Paths (upstream_paths, catalog sources) and dotted catalog symbols, as written."""
    upstream = checklist.front.get("upstream_paths")
    paths = [p for p in upstream if isinstance(p, str)] if isinstance(upstream, list) else []
    paths += [e.source for e in checklist.entries if e.source and "/" in e.source]
    symbols = [e.symbol for e in checklist.entries if "." in e.symbol and "/" not in e.symbol]
    return paths, symbols


def _common(items: Sequence[Sequence[str]]) -> list[str]:
    prefix = list(items[0])
    for item in items[1:]:
        length = next((i for i, (a, b) in enumerate(zip(prefix, item, strict=False)) if a != b), None)
        prefix = prefix[: length if length is not None else min(len(prefix), len(item))]
    return prefix


def _root(items: Iterable[list[str]], words: Sequence[str]) -> str | None:
    """The deepest package every item shares, cut where it stops spelling the package's name.

    `megatron/core/...` for megatron-core is `megatron.core`; `torchao/prototype/...` for torchao is
    `torchao`, not `torchao.prototype` (a checklist names only the paths it watches, not all of them).
    """
    usable = [i for i in items if i and all(p.isidentifier() for p in i)]
    if not usable:
        return None
    names = {"_".join(words), "".join(words), words[0]}
    counts = Counter(i[0] for i in usable)
    top = max(counts, key=lambda first: (counts[first], first.lower() in names, first))
    common = _common([i for i in usable if i[0] == top])
    root = [common[0]]
    for part in common[1:]:
        if part.lower() not in words:
            break
        root.append(part)
    return ".".join(root)


def inferred_roots(package: str, checklist: Checklist | None) -> tuple[str, ...]:
    """The import root the checklist's upstream paths, else its catalog's module paths, point to."""
    if checklist is None:
        return ()
    words = _words(package)
    if not words:
        return ()
    names = frozenset({"_".join(words), "".join(words), words[0]})
    paths, symbols = _evidence(checklist)
    root = _root((_anchored(_from_path(p), names) for p in paths), words)
    if root is None:
        root = _root((_anchored(s.split("."), names) for s in symbols), words)
    return (root,) if root else ()
