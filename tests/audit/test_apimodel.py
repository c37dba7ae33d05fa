"""The static API model: aliases, wildcard chains, dynamic modules, inheritance, dataclasses, the cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.audit.apimodel import ApiModel
from bot.audit.distributions import Unpacked

SOURCES = {
    "pkg/__init__.py": (
        "from typing import TYPE_CHECKING\n"
        "from .sub.impl import Foo as Bar\n"
        "from .models import *\n"
        "if TYPE_CHECKING:\n"
        "    from .sub.impl import Data\n"
    ),
    "pkg/sub/__init__.py": "",
    "pkg/sub/impl.py": (
        "from dataclasses import dataclass, field\n"
        "from typing import ClassVar\n"
        "from external import Remote\n\n"
        "class Base:\n"
        "    def method(self, x, *, y=1): ...\n"
        "    @staticmethod\n"
        "    def static(a, b): ...\n"
        "    @classmethod\n"
        "    def make(cls, name, /, **kw): ...\n\n"
        "class Foo(Base):\n"
        "    def __init__(self, a, b=2, *args, c, **kw): ...\n\n"
        "def make_foo(a) -> Foo: ...\n"
        "def make_remote() -> Remote: ...\n"
        "def make_any(): ...\n\n"
        "class Child(Remote):\n"
        "    pass\n\n"
        "class Late:\n"
        "    def __init__(self):\n"
        "        self.early = 1\n"
        "    def setup(self):\n"
        "        self.late: int = 2\n\n"
        "@dataclass\n"
        "class Data:\n"
        "    kind: ClassVar[str] = 'x'\n"
        "    x: int\n"
        "    y: str = 'a'\n"
        "    z: int = field(default=8, metadata={'help': 'text that changes'})\n"
        "    items: list = field(default_factory=list)\n"
        "    hidden: int = field(init=False, default=0)\n"
    ),
    "pkg/models/__init__.py": "from .llama import *\n",
    "pkg/models/llama/__init__.py": "from .configuration_llama import *\n",
    "pkg/models/llama/configuration_llama.py": "class LlamaConfig:\n    def __init__(self, hidden=64): ...\n",
    "pkg/lazy.py": "def __getattr__(name):\n    raise AttributeError(name)\n",
    "pkg/starry.py": "from os.path import *\n",
    "pkg/broken.py": "def broken(:\n",
    "pkg/nspace/deep/mod.py": "def inside(): ...\n",
    "pkg/_speedups.cpython-311-x86_64-linux-gnu.so": "",
}


@pytest.fixture
def model(tmp_path: Path) -> ApiModel:
    root = tmp_path / "src"
    for relative, text in SOURCES.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return ApiModel(Unpacked("pkg", "1.0", "ab" * 32, root, ("pkg",)), cache_dir=tmp_path / "cache")


@pytest.mark.parametrize(
    ("path", "status", "kind", "target", "signature"),
    [
        ("pkg.Bar", "found", "class", "pkg.sub.impl.Foo", "(a, b=2, *args, c, **kw)"),
        ("pkg.Bar.method", "found", "function", "pkg.sub.impl.Base.method", "(x, *, y=1)"),
        ("pkg.sub.impl.Base.static", "found", "function", "pkg.sub.impl.Base.static", "(a, b)"),
        ("pkg.sub.impl.Base.make", "found", "function", "pkg.sub.impl.Base.make", "(name, /, **kw)"),
        ("pkg.Data", "found", "class", "pkg.sub.impl.Data", "(x, y='a', z=8, items=list())"),
        (
            "pkg.LlamaConfig",
            "found",
            "class",
            "pkg.models.llama.configuration_llama.LlamaConfig",
            "(hidden=64)",
        ),
        ("pkg.sub", "found", "module", "pkg.sub", ""),
        ("pkg.Bar().method", "found", "function", "pkg.sub.impl.Base.method", "(x, *, y=1)"),
        ("pkg.sub.impl.make_foo().method", "found", "function", "pkg.sub.impl.Base.method", "(x, *, y=1)"),
        ("pkg.sub.impl.make_foo().gone", "missing", "", "", ""),
        ("pkg.sub.impl.make_remote().method", "unknown", "", "", ""),
        ("pkg.sub.impl.make_any().method", "unknown", "", "", ""),
        ("pkg.Nowhere", "missing", "", "", ""),
        ("pkg.sub.impl.Foo.gone", "missing", "", "", ""),
        ("pkg.nomodule.thing", "missing", "", "", ""),
        ("pkg.lazy.anything", "unknown", "", "", ""),
        ("pkg.starry.join", "unknown", "", "", ""),
        ("pkg.sub.impl.Child.whatever", "unknown", "", "", ""),
        ("pkg.broken.broken", "unknown", "", "", ""),
        ("pkg.nspace", "found", "module", "pkg.nspace", ""),
        ("pkg.nspace.deep.mod.inside", "found", "function", "pkg.nspace.deep.mod.inside", "()"),
        ("pkg.nspace.gone.thing", "missing", "", "", ""),
        ("pkg._speedups.fast_path", "unknown", "", "", ""),
        ("pkg.sub.impl.Late.early", "found", "attribute", "pkg.sub.impl.Late.early", ""),
        ("pkg.sub.impl.Late.late", "unknown", "", "", ""),
        ("pkg.sub.impl.Late.never", "missing", "", "", ""),
        ("pkg.sub.impl.Remote", "unknown", "", "", ""),
        ("other.thing", "unknown", "", "", ""),
    ],
)
def test_lookup(model: ApiModel, path: str, status: str, kind: str, target: str, signature: str) -> None:
    info = model.lookup(path)
    assert (info.status, info.kind, info.target, info.signature()) == (status, kind, target, signature)


def test_only_needed_modules_are_read(model: ApiModel) -> None:
    model.lookup("pkg.Bar")
    assert set(model.modules) == {"pkg.Bar", "pkg", "pkg.sub.impl.Foo", "pkg.sub.impl"}
    assert "pkg.models.llama.configuration_llama" not in model.modules


def test_locate_prefers_public_modules(model: ApiModel) -> None:
    assert model.locate("LlamaConfig") == ["pkg.models.llama.configuration_llama"]
    assert model.locate("Nothing") == []


def test_cache_answers_without_the_sources(model: ApiModel, tmp_path: Path) -> None:
    first = model.lookup("pkg.Bar")
    model.save()
    shutil.rmtree(model.dist.root)
    again = ApiModel(model.dist, cache_dir=tmp_path / "cache")
    assert again.lookup("pkg.Bar") == first
    assert again.modules == {}


def test_corrupt_cache_is_ignored(model: ApiModel, tmp_path: Path) -> None:
    model.cache_file.parent.mkdir(parents=True, exist_ok=True)
    model.cache_file.write_text("{not json", encoding="utf-8")
    fresh = ApiModel(model.dist, cache_dir=tmp_path / "cache")
    assert fresh.lookup("pkg.Bar").status == "found"


def test_namespace_distribution_owns_only_its_subpackage(tmp_path: Path) -> None:
    root = tmp_path / "megatron_core"
    (root / "megatron" / "core").mkdir(parents=True)
    (root / "megatron" / "core" / "__init__.py").write_text("def init(a): ...\n", encoding="utf-8")
    model = ApiModel(Unpacked("megatron-core", "1", "cd" * 32, root, ("megatron.core",)), cache_dir=tmp_path)
    assert model.lookup("megatron.core.init").status == "found"
    assert model.lookup("megatron.core.gone").status == "missing"
    assert model.lookup("megatron.bridge.AutoBridge").status == "unknown"  # another distribution's


def test_returned_value_through_a_re_export(tmp_path: Path) -> None:
    root = tmp_path / "src"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("from .impl import load\n", encoding="utf-8")
    (root / "pkg" / "impl.py").write_text(
        "class Model:\n    def fit(self, x): ...\n\ndef load() -> Model: ...\n", encoding="utf-8"
    )
    model = ApiModel(Unpacked("pkg", "1", "ef" * 32, root, ("pkg",)), cache_dir=tmp_path / "cache")
    info = model.lookup("pkg.load().fit")
    assert (info.status, info.target, info.signature()) == ("found", "pkg.impl.Model.fit", "(x)")


def test_enter_returning_self_is_the_object_itself(tmp_path: Path) -> None:
    root = tmp_path / "src"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text(
        "class Client:\n"
        "    def __enter__(self):\n"
        "        if self.ready:\n"
        "            return self\n"
        "        return self\n"
        "    def get(self, url): ...\n\n"
        "class Pool:\n"
        "    def __enter__(self):\n"
        "        return self.connection()\n"
        "    def get(self, url): ...\n",
        encoding="utf-8",
    )
    model = ApiModel(Unpacked("pkg", "1", "12" * 32, root, ("pkg",)), cache_dir=tmp_path / "cache")
    assert model.lookup("pkg.Client().__enter__().get").target == "pkg.Client.get"
    assert model.lookup("pkg.Pool().__enter__().get").status == "unknown"


def test_unwritable_cache_costs_time_not_the_audit(model: ApiModel, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("", encoding="utf-8")
    model.cache_file = blocker / "api" / "pkg.json"
    assert model.lookup("pkg.Bar").status == "found"
    model.save()  # no exception: the next run simply computes again
    assert blocker.is_file()
