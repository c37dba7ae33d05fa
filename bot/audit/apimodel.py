"""A package version's API, read statically with griffe one module at a time, cached per symbol as JSON."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.audit.constants import evaluate
from bot.audit.distributions import NATIVE, Unpacked
from bot.audit.sourcetext import (
    assigned_in_body,
    binding_modules,
    index_definitions,
    module_paths,
    publicness,
    returns_self,
)

if TYPE_CHECKING:
    import griffe

from bot.audit.symbols import (
    Param,
    SymbolInfo,
    dataclass_params,
    load_cache,
    params_of,
    save_cache,
)

_MAX_HOPS = 12  # alias chains longer than this are treated as unresolvable, never as removed


_WILDCARDS_FOLLOWED = 8  # more (transformers has hundreds) are followed only towards a definition


class ApiModel:
    """Answers `lookup(dotted path)` for one unpacked distribution, visiting only the modules it needs."""

    def __init__(self, dist: Unpacked, *, cache_dir: Path) -> None:
        self.dist = dist
        self.cache_file = cache_dir / "api" / f"{dist.name}-{dist.version}-{dist.digest[:16]}.json"
        self.modules: dict[str, griffe.Module | None] = {}
        self.broken: set[str] = set()  # modules whose file exists but cannot be parsed
        self.symbols: dict[str, SymbolInfo] = {}
        self.locations: dict[str, list[str]] = {}
        self.dirty = False
        self._definitions: dict[str, list[str]] | None = None
        self.symbols, self.locations = load_cache(self.cache_file)

    def save(self) -> None:
        """Write what was learned; a failed write only costs time on the next run."""
        if self.dirty:
            save_cache(self.cache_file, self.symbols, self.locations)
            self.dirty = False

    # -- modules ---------------------------------------------------------------------------

    def _module_file(self, dotted: str) -> Path | None:
        base = self.dist.root.joinpath(*dotted.split("."))
        for candidate in (base / "__init__.py", base.with_suffix(".py"), base / "__init__.pyi"):
            if candidate.is_file():
                return candidate
        stub = base.with_suffix(".pyi")
        return stub if stub.is_file() else None

    def _native(self, dotted: str) -> bool:
        """A compiled extension module (only its placeholder was unpacked)."""
        base = self.dist.root.joinpath(*dotted.split("."))
        return base.parent.is_dir() and any(
            p.suffix in NATIVE
            for p in base.parent.glob(f"{base.name}.*")
            if p.name.split(".")[0] == base.name
        )

    def module(self, dotted: str) -> griffe.Module | None:
        """The module `dotted` visited on its own (its parents only as empty shells), or None."""
        if dotted in self.modules:
            return self.modules[dotted]
        # Imported here: with the per-symbol cache warm, no module is visited and griffe never loads.
        import griffe

        path = self._module_file(dotted)
        result: griffe.Module | None = None
        *parents, name = dotted.split(".")
        parent: griffe.Module | None = None
        for part in parents:
            parent = griffe.Module(part, parent=parent)
        if path is not None:
            try:
                code = path.read_text(encoding="utf-8", errors="replace")
                result = griffe.visit(name, path, code, parent=parent)
            # griffe reads arbitrary third-party code: whatever fails, the module is unreadable and
            # its names are unknown, which must never end the whole audit.
            except Exception:
                self.broken.add(dotted)
                result = None
        elif self._namespace(dotted):
            # A directory of modules without __init__ (PEP 420): a package with no names of its own.
            result = griffe.Module(name, parent=parent)
        self.modules[dotted] = result
        return result

    def _namespace(self, dotted: str) -> bool:
        base = self.dist.root.joinpath(*dotted.split("."))
        return base.is_dir() and any(base.rglob("*.py*"))

    # -- lookups ---------------------------------------------------------------------------

    def lookup(self, path: str) -> SymbolInfo:
        """What `path` is in this version (cached)."""
        if path not in self.symbols:
            self.symbols[path] = self._resolve(path, hops=0)
            self.dirty = True
        return self.symbols[path]

    def _inside(self, path: str) -> bool:
        return any(path == root or path.startswith(root + ".") for root in self.dist.top_level)

    def _resolve(self, path: str, *, hops: int) -> SymbolInfo:
        if hops > _MAX_HOPS:
            return SymbolInfo(path, "unknown", reason="alias chain too long")
        if not self._inside(path):
            return SymbolInfo(path, "unknown", reason="outside this distribution")
        parts = path.split(".")
        for cut in range(len(parts), 0, -1):
            module = self.module(".".join(parts[:cut]))
            if module is not None:
                break
            if ".".join(parts[:cut]) in self.broken:
                return SymbolInfo(path, "unknown", reason=f"{'.'.join(parts[:cut])} cannot be parsed")
            if self._native(".".join(parts[:cut])):
                return SymbolInfo(path, "unknown", reason=f"{'.'.join(parts[:cut])} is a compiled module")
        else:
            return SymbolInfo(path, "missing", reason=f"no module {parts[0]}")
        return self._walk(path, module, parts[cut:], hops=hops)

    def _walk(self, path: str, obj: Any, rest: list[str], *, hops: int) -> SymbolInfo:
        for index, part in enumerate(rest):
            # "name()" is the value a call returns: an instance of the class, or of a function's
            # annotated return class (`x = pkg.load(); x.fit()` looks up `pkg.load().fit`).
            name, called = (part[:-2], True) if part.endswith("()") else (part, False)
            member = self._member(obj, name, hops=hops)
            if called and not isinstance(member, SymbolInfo):
                member = self._result_of(member)
            if isinstance(member, SymbolInfo):
                if member.status == "found" and index + 1 < len(rest):
                    return SymbolInfo(path, "unknown", reason=f"attribute of a value ({member.target})")
                if member.status != "found":
                    last = index + 1 == len(rest)
                    origin = member.imported_from if last else ""
                    return SymbolInfo(path, member.status, reason=member.reason, imported_from=origin)
                return SymbolInfo(
                    path,
                    "found",
                    member.kind,
                    member.target,
                    member.params,
                    member.bases,
                    "",
                    member.decorators,
                )
            obj = member
        return self._describe(path, obj)

    def _result_of(self, obj: Any) -> Any:
        """The class of what calling `obj` returns, or a SymbolInfo saying why that is unknown."""
        if obj.kind.value == "class":
            return obj
        returns = getattr(obj, "returns", None) if obj.kind.value == "function" else None
        target = getattr(returns, "canonical_path", None)
        cls = self._class(target) if isinstance(target, str) else None
        if cls is None and obj.kind.value == "function" and returns_self(obj):
            cls = obj.parent if obj.parent is not None and obj.parent.kind.value == "class" else None
        if cls is None:
            return SymbolInfo(obj.path, "unknown", reason=f"the value {obj.path} returns has no known class")
        return cls

    def _member(self, obj: Any, name: str, *, hops: int) -> Any:
        """The griffe object `obj.name`, or a SymbolInfo when it is an alias, missing or unknowable."""
        members = obj.members
        if name in members:
            member = members[name]
            if member.is_alias and not self._inside(member.target_path):
                # Bound by importing it from another distribution: what it is cannot be read here,
                # but that this module binds it is a fact (its removal is one too).
                reason = f"{obj.path} imports {name} from {member.target_path}, outside this distribution"
                return SymbolInfo(name, "unknown", reason=reason, imported_from=member.target_path)
            if member.is_alias:
                return self._materialise(self._resolve(member.target_path, hops=hops + 1))
            return member
        if obj.kind.value == "module":
            return self._module_member(obj, name, hops=hops)
        if obj.kind.value == "class":
            return self._class_member(obj, name, hops=hops)
        return SymbolInfo(name, "unknown", reason=f"attribute of a value ({obj.path})")

    def _module_member(self, obj: Any, name: str, *, hops: int) -> Any:
        """A name the module does not define itself: through its wildcard imports, else unknown or missing."""
        members = obj.members
        wildcards = [m.wildcard for m in members.values() if m.is_alias and m.name.endswith("/*")]
        if wildcards:
            return self._through_wildcards(obj.path, name, wildcards, hops=hops)
        if "__getattr__" in members:
            return SymbolInfo(name, "unknown", reason=f"{obj.path} resolves names dynamically (__getattr__)")
        if name in {str(n) for n in getattr(obj, "exports", None) or ()}:
            return SymbolInfo(
                name, "unknown", reason=f"{obj.path} lists {name} in __all__ but binds it elsewhere"
            )
        return SymbolInfo(name, "missing", reason=f"{obj.path} has no {name}")

    def _class_member(self, obj: Any, name: str, *, hops: int) -> Any:
        """An attribute the class does not define itself: inherited, else unknown or missing."""
        for base in obj.bases:
            base_path = getattr(base, "canonical_path", str(base))
            base_obj = self._class(base_path)
            if base_obj is None:
                return SymbolInfo(name, "unknown", reason=f"base {base_path} cannot be read")
            inherited = self._member(base_obj, name, hops=hops + 1)
            if not (isinstance(inherited, SymbolInfo) and inherited.status == "missing"):
                return inherited
        if "__getattr__" in obj.members:
            return SymbolInfo(name, "unknown", reason=f"{obj.path} resolves attributes dynamically")
        if assigned_in_body(obj, name):
            return SymbolInfo(name, "unknown", reason=f"{obj.path} sets {name} outside __init__")
        return SymbolInfo(name, "missing", reason=f"{obj.path} has no attribute {name}")

    def _materialise(self, info: SymbolInfo) -> Any:
        """The griffe object behind a found module, class or function (so members or the returned
        value can be followed), else `info`."""
        if info.status == "found" and info.kind in ("module", "class", "function", "attribute"):
            resolved = self._object(info.target)
            if resolved is not None:
                return resolved
        return info

    def _through_wildcards(self, module: str, name: str, wildcards: list[str], *, hops: int) -> Any:
        """`from x import *` chains: follow only the ones that lead to a module defining `name`.

        Trying every wildcard would load most of a package like transformers (hundreds of
        `from .document import *`); the definitions index says which chain can hold the name.
        """
        homes = self.locate(name)
        leading = [w for w in wildcards if any(h == w or h.startswith(w + ".") for h in homes)]
        # A few wildcards inside the distribution are all followed: one of them may import the name
        # from where it is defined (sglang's `utils/__init__` is `from .common import *`, and a name
        # that moved from `common` to `network` is then bound nowhere in `utils`).
        few = len(wildcards) <= _WILDCARDS_FOLLOWED and all(self._inside(w) for w in wildcards)
        for wildcard in leading + [w for w in wildcards if few and w not in leading]:
            found = self._resolve(f"{wildcard}.{name}", hops=hops + 1)
            if found.status != "missing":
                return self._materialise(found)
        if (homes and not few) or any(not self._inside(w) for w in wildcards):
            return SymbolInfo(
                name, "unknown", reason=f"{module} may re-export {name} through a wildcard import"
            )
        if "__getattr__" in self._object_members(module):
            return SymbolInfo(name, "unknown", reason=f"{module} resolves names dynamically (__getattr__)")
        return SymbolInfo(name, "missing", reason=f"{name} is defined nowhere in the distribution")

    def _object_members(self, module: str) -> Any:
        found = self.module(module)
        return found.members if found is not None else {}

    def _class(self, path: str) -> Any:
        """The class object at `path` inside this distribution, or None."""
        obj = self._object(path) if self._inside(path) else None
        return obj if obj is not None and obj.kind.value == "class" else None

    def _object(self, path: str) -> Any:
        parts = path.split(".")
        for cut in range(len(parts), 0, -1):
            module = self.module(".".join(parts[:cut]))
            if module is not None:
                obj: Any = module
                for name in parts[cut:]:
                    member = obj.members.get(name)
                    if member is None or member.is_alias:
                        return None
                    obj = member
                return obj
        return None

    def _describe(self, path: str, obj: Any) -> SymbolInfo:
        kind = obj.kind.value
        bases: tuple[str, ...] = ()
        params: tuple[Param, ...] | None = None
        decorators = tuple(str(d.value) for d in getattr(obj, "decorators", ()))
        if kind == "function":
            params = params_of(obj, method=obj.parent is not None and obj.parent.kind.value == "class")
            params = self._evaluated(params, obj)
        elif kind == "class":
            bases = tuple(getattr(b, "canonical_path", str(b)) for b in obj.bases)
            params = self._init_params(obj)
        return SymbolInfo(path, "found", kind, obj.path, params, bases, "", decorators)

    def _evaluated(self, params: tuple[Param, ...], owner: Any) -> tuple[Param, ...]:
        """Defaults computed to literals through the defining module's constants, where possible."""
        module = getattr(owner, "module", None)

        def lookup(name: str) -> str | None:
            if module is None:
                return None
            member = module.members.get(name.split(".")[0]) if "." not in name else None
            if member is not None and member.is_alias:
                member = self._materialise(self._resolve(member.target_path, hops=1))
            value = (
                getattr(member, "value", None)
                if member is not None and not isinstance(member, SymbolInfo)
                else None
            )
            return None if value is None else str(value)

        return tuple(
            replace(p, value=evaluate(p.default, lookup)) if p.default is not None else p for p in params
        )

    def _init_params(self, cls: Any, depth: int = 0) -> tuple[Param, ...] | None:
        if "__init__" in cls.members and not cls.members["__init__"].is_alias:
            init = cls.members["__init__"]
            return self._evaluated(params_of(init, method=True), init)
        if any(str(d.value).split(".")[-1].startswith("dataclass") for d in cls.decorators):
            return self._evaluated(dataclass_params(cls), cls)
        if depth > _MAX_HOPS:
            return None
        for base in cls.bases:
            base_path = getattr(base, "canonical_path", str(base))
            if base_path in ("object", "builtins.object"):
                continue
            base_obj = self._class(base_path)
            return None if base_obj is None else self._init_params(base_obj, depth + 1)
        return None if cls.bases else ()

    # -- where did it go -------------------------------------------------------------------

    def locate(self, name: str) -> list[str]:
        """Dotted paths of the modules that define `name` at top level (class, def or assignment)."""
        if name not in self.locations:
            if self._definitions is None:
                self._definitions = index_definitions(self.dist.root, self.dist.top_level)
            self.locations[name] = sorted(self._definitions.get(name, []), key=publicness)
            self.dirty = True
        return self.locations[name]

    def locate_bindings(self, name: str) -> list[str]:
        """Dotted paths of the modules that import `name` at module level (its re-exports)."""
        key = f"import:{name}"
        if key not in self.locations:
            self.locations[key] = binding_modules(self.dist.root, self.dist.top_level, name)
            self.dirty = True
        return self.locations[key]

    def locate_module(self, name: str) -> list[str]:
        """Dotted paths of the modules or packages whose last part is `name`."""
        key = f"module:{name}"
        if key not in self.locations:
            self.locations[key] = module_paths(self.dist.root, self.dist.top_level, name)
            self.dirty = True
        return self.locations[key]

    def root_of(self, path: str) -> str:
        """The distribution root `path` lies under (`megatron.core` for namespace packages)."""
        return next(
            (r for r in self.dist.top_level if path == r or path.startswith(r + ".")), path.split(".")[0]
        )
