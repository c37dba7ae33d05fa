"""Signature comparison on small real source trees: each kind of change, and the calls it must not flag."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.audit.apimodel import ApiModel
from bot.audit.compare import Versions, compare_uses
from bot.audit.distributions import Unpacked
from bot.audit.usage import Use

OLD = """\
def posonly(a, b): ...
def shrink(a, b): ...
def kw(a, *, flag=False): ...
def varargs(a, b): ...
def same(a, b=1, **kw): ...
def renamed(a, old=1): ...
"""
NEW = """\
def posonly(a, b, /): ...
def shrink(a): ...
def kw(a, *, flag=False): ...
def varargs(a, b, c): ...
def same(a, b=1, **kw): ...
@deprecate_kwarg("old", new_name="new", version="3")
def renamed(a, new=1): ...
"""


def _model(tmp_path: Path, name: str, source: str) -> ApiModel:
    root = tmp_path / name
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text(source, encoding="utf-8")
    return ApiModel(Unpacked("pkg", name, name * 32, root, ("pkg",)), cache_dir=tmp_path / "cache")


def _call(symbol: str, positional: int, keywords: tuple[str, ...] = (), **flags: bool) -> Use:
    return Use("m.py", 3, 5, symbol, "call", positional, keywords, **flags)


@pytest.mark.parametrize(
    ("use", "expected"),
    [
        (_call("pkg.posonly", 1, ("b",)), [("parameter-kind-changed", "error")]),
        (_call("pkg.shrink", 2), [("too-many-positional", "error")]),
        (_call("pkg.varargs", 2), [("new-required", "error")]),
        # Cannot tell how many positionals *rest carries: no new-required claim.
        (_call("pkg.varargs", 1, star_args=True), []),
        # Did not fit the old signature either: our reading may be wrong, say nothing.
        (_call("pkg.kw", 2), []),
        (_call("pkg.same", 1, ("b", "extra")), []),
        (_call("pkg.kw", 1, ("flag",)), []),
        # The decorator still maps the old keyword: deprecated, not broken.
        (_call("pkg.renamed", 1, ("old",)), [("keyword-deprecated", "warning")]),
    ],
)
def test_call_changes(tmp_path: Path, use: Use, expected: list[tuple[str, str]]) -> None:
    old, new = _model(tmp_path, "1", OLD), _model(tmp_path, "2", NEW)
    findings, moves = compare_uses([use], old, new, Versions("pkg", "1", "2"), catalog=lambda s: None)
    assert [(f.kind, f.severity) for f in findings] == expected
    assert moves == []


def test_removed_symbol_reported_once_per_file(tmp_path: Path) -> None:
    old, new = _model(tmp_path, "1", "def gone(): ...\n"), _model(tmp_path, "2", "")
    uses = [
        Use("m.py", 1, 1, "pkg.gone", "import"),
        Use("m.py", 5, 5, "pkg.gone", "call"),
        Use("n.py", 2, 1, "pkg.gone", "import"),
    ]
    findings, _ = compare_uses(uses, old, new, Versions("pkg", "1", "2"), catalog=lambda s: "3. pkg.gone")
    assert [(f.file, f.line, f.kind, f.catalog_entry) for f in findings] == [
        ("m.py", 1, "removed", "3. pkg.gone"),
        ("n.py", 2, "removed", "3. pkg.gone"),
    ]


def _tree(tmp_path: Path, name: str, files: dict[str, str]) -> ApiModel:
    root = tmp_path / name
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return ApiModel(Unpacked("pkg", name, name * 32, root, ("pkg",)), cache_dir=tmp_path / "cache")


def test_moved_module_and_dropped_base(tmp_path: Path) -> None:
    old = _tree(
        tmp_path,
        "1",
        {
            "pkg/__init__.py": "",
            "pkg/utils.py": "def helper(): ...\n",
            "pkg/base.py": "class Mixin: ...\nclass Engine(Mixin):\n    pass\n",
        },
    )
    new = _tree(
        tmp_path,
        "2",
        {
            "pkg/__init__.py": "",
            "pkg/_impl/__init__.py": "",
            "pkg/_impl/utils.py": "def helper(): ...\n",
            "pkg/helpers/__init__.py": "",
            "pkg/helpers/utils.py": "def helper(): ...\n",
            "pkg/base.py": "class Mixin: ...\nclass Engine:\n    pass\n",
        },
    )
    uses = [Use("m.py", 1, 1, "pkg.utils", "import"), Use("m.py", 4, 12, "pkg.base.Engine", "subclass")]
    findings, moves = compare_uses(uses, old, new, Versions("pkg", "1", "2"), catalog=lambda s: None)
    assert [(f.line, f.kind, f.severity) for f in findings] == [
        (1, "moved", "error"),
        (4, "base-removed", "warning"),
    ]
    assert moves == [("pkg.utils", "pkg.helpers.utils")]  # the public location, not pkg._impl
    assert findings[1].message == (
        "'pkg.base.Engine' no longer derives from 'pkg.base.Mixin' in pkg 2; "
        "what this subclass inherits from it may be gone."
    )


def test_methods_of_returned_and_constructed_objects(tmp_path: Path) -> None:
    old = _tree(
        tmp_path,
        "1",
        {
            "pkg/__init__.py": (
                "class Model:\n    def fit(self, data, epochs=1): ...\n\ndef load() -> Model: ...\n"
            )
        },
    )
    new = _tree(
        tmp_path,
        "2",
        {"pkg/__init__.py": "class Model:\n    def fit(self, data): ...\n\ndef load() -> Model: ...\n"},
    )
    uses = [
        Use("m.py", 3, 1, "pkg.load().fit", "call", 1, ("epochs",), on_instance=True),
        Use("m.py", 5, 1, "pkg.Model().fit", "call", 1, ("epochs",), on_instance=True),
    ]
    findings, _ = compare_uses(uses, old, new, Versions("pkg", "1", "2"), catalog=lambda s: None)
    assert [(f.line, f.symbol, f.kind) for f in findings] == [
        (3, "pkg.load().fit", "keyword-removed"),
        (5, "pkg.Model.fit", "keyword-removed"),
    ]


def test_changed_defaults_make_one_note_and_sentinels_are_not_defaults(tmp_path: Path) -> None:
    old = _model(tmp_path, "1", "def f(a, b=None, c=1, d=True, e=None): ...\n")
    new = _model(tmp_path, "2", "def f(a, b=_Unset, c=2, d=False, e=PydanticUndefined): ...\n")
    findings, _ = compare_uses(
        [_call("pkg.f", 1)], old, new, Versions("pkg", "1", "2"), catalog=lambda s: None
    )
    assert [(f.kind, f.severity, f.message) for f in findings] == [
        (
            "default-changed",
            "info",
            "2 defaults of 'pkg.f' this call relies on changed in pkg 2: 'c' 1 -> 2, 'd' True -> False.",
        )
    ]


@pytest.mark.parametrize(
    ("new_source", "expected"),
    [
        ("from .sizes import CHUNK\ndef f(a, size=CHUNK): ...\n", []),  # 2 ** 16 == 65536: same default
        (
            "CHUNK = 2 ** 18\ndef f(a, size=CHUNK): ...\n",
            [
                "the default of 'size' in 'pkg.f' changed from 2 ** 16 (65536) to CHUNK (262144) in pkg 2; "
                "this call relies on it."
            ],
        ),
    ],
)
def test_defaults_compare_by_value_through_constants(
    tmp_path: Path, new_source: str, expected: list[str]
) -> None:
    old = _model(tmp_path, "1", "def f(a, size=2 ** 16): ...\n")
    new = _tree(tmp_path, "2", {"pkg/__init__.py": new_source, "pkg/sizes.py": "CHUNK = 65536\n"})
    findings, _ = compare_uses(
        [_call("pkg.f", 1)], old, new, Versions("pkg", "1", "2"), catalog=lambda s: None
    )
    assert [f.message for f in findings] == expected


def test_context_manager_methods_read_as_the_class(tmp_path: Path) -> None:
    body = "class Client:\n    def __enter__(self):\n        return self\n"
    old = _tree(tmp_path, "1", {"pkg/__init__.py": body + "    def get(self, url, verify=True): ...\n"})
    new = _tree(tmp_path, "2", {"pkg/__init__.py": body + "    def get(self, url): ...\n"})
    use = Use("m.py", 2, 5, "pkg.Client().__enter__().get", "call", 1, ("verify",), on_instance=True)
    findings, _ = compare_uses([use], old, new, Versions("pkg", "1", "2"), catalog=lambda s: None)
    assert [(f.symbol, f.kind) for f in findings] == [("pkg.Client.get", "keyword-removed")]
