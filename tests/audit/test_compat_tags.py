"""Compat tags as real shims write them (Dynamo's `_compat.py` history): `<=`, two-line tags, tags in the
`try` body, `except ModuleNotFoundError`, nested `try`, other conditions; and the branch data they yield."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.audit.compat import ShimContext, check_shims
from bot.audit.compat_branches import fallbacks_in
from bot.audit.compat_tags import read_tag, retired
from bot.files.config import CompatShim

ROOTS = frozenset({"demo_lib"})
SHIM = '''\
"""Compatibility shim for demo-lib (N and N-1)."""
try:
    from demo_lib.new import A
except ImportError:
    # Fallback for demo-lib <= 0.9. Remove when min supported version is 1.0+
    from demo_lib.old import A

try:
    from demo_lib.utils.parser import Merger
except ModuleNotFoundError as exc:
    if exc.name != "demo_lib.utils.parser":
        raise
    # Fallback for Demo-Lib 0.9. Remove when minimum supported demo-lib is
    # 1.0+.
    from demo_lib.parser import Merger

try:
    # Prefer the guarded API on demo-lib 1.0; its plain form does not check yet.
    # Remove when the minimum supported demo-lib version is 1.1+.
    from demo_lib.overrides import declare_late
except ImportError:
    try:
        from demo_lib.overrides import declare as declare_late
    except ImportError:
        # The separately pinned XPU demo-lib 0.5 predates declarations.
        # Remove when the XPU pin is upgraded to 1.0+.
        declare_late = None

try:
    from demo_lib.runtime import publish
except ImportError:
    # Fallback for demo-lib 0.9 and the XPU 0.5 pin. Remove the 0.9
    # portion when minimum supported demo-lib is 1.0+.
    publish = None

try:
    from demo_lib.views import resolved
except ImportError:
    # Fallback for demo-lib <= 0.9. Remove when min supported version has the view API (#12).
    resolved = None

try:
    from demo_lib.fast import B  # noqa: F401
except ImportError:
    B = None

try:
    from demo_lib.nested import C
except ImportError:
    # Fallback for demo-lib 0.9. Remove when min supported version is 1.0+
    try:
        from demo_lib.older import C
    except ImportError:
        # Keep the XPU pins working until both move here.
        C = None
'''
LINES = SHIM.splitlines()


def at(text: str, nth: int = 1) -> int:
    """The line number of the nth line holding `text`."""
    return [number for number, line in enumerate(LINES, 1) if text in line][nth - 1]


def _findings(
    tmp_path: Path, *, old: str = "1.0", new: str = "2.0", window: int = 1
) -> list[tuple[int, str, str]]:
    (tmp_path / "_compat.py").write_text(SHIM, encoding="utf-8")
    (tmp_path / "stubs.py").write_text('MOCKS = ["demo_lib.utils.parser"]\n', encoding="utf-8")
    context = ShimContext("demo-lib", ROOTS, old=old, new=new, window=window)
    shim = CompatShim("demo-lib", ("_compat.py",), ("stubs.py",))
    return [(f.line, f.kind, f.severity) for f in check_shims(tmp_path, (shim,), context)]


def test_real_tag_shapes_are_read_and_judged(tmp_path: Path) -> None:
    assert _findings(tmp_path) == [
        (at("except ImportError", 1), "compat-removable", "warning"),  # `<=`
        (at("from demo_lib.new import A"), "stub-missing", "warning"),
        (at("except ModuleNotFoundError"), "compat-removable", "warning"),  # two lines, re-raise guard
        # The module is on the stub list already: no stub-missing for it.
        (at("except ImportError", 3), "compat-not-evaluated", "info"),  # the XPU pin
        (at("except ImportError", 4), "compat-not-evaluated", "info"),  # removes only a portion
        (at("except ImportError", 5), "compat-not-evaluated", "info"),  # a condition, not a version
        (at("except ImportError", 6), "compat-untagged", "warning"),
        (at("except ImportError", 7), "compat-removable", "warning"),  # its own tag, not the nested one
        (at("from demo_lib.nested import C"), "stub-missing", "warning"),
        (at("except ImportError", 8), "compat-not-evaluated", "info"),  # "keep ... until"
    ]


def test_a_tag_in_the_try_body_is_judged_but_leaves_the_choice_to_a_person(tmp_path: Path) -> None:
    (tmp_path / "_compat.py").write_text(SHIM, encoding="utf-8")
    context = ShimContext("demo-lib", ROOTS, old="1.1", new="1.2", window=1)
    findings = check_shims(tmp_path, (CompatShim("demo-lib", ("_compat.py",)),), context)
    (body,) = [f for f in findings if f.line == at("except ImportError", 2)]
    assert (body.kind, body.severity) == ("compat-removable", "warning")
    assert body.message == (
        f"the try/except at line {at('try:', 3)} is tagged in its try body to be removed from demo-lib 1.1, "
        "and the minimum supported version is now 1.1: decide which of its branches stays."
    )


def test_not_evaluated_messages_say_why(tmp_path: Path) -> None:
    (tmp_path / "_compat.py").write_text(SHIM, encoding="utf-8")
    context = ShimContext("demo-lib", ROOTS, old="1.0", new="2.0", window=1)
    messages = {
        f.line: f.message
        for f in check_shims(tmp_path, (CompatShim("demo-lib", ("_compat.py",)),), context)
        if f.kind == "compat-not-evaluated"
    }
    assert messages[at("except ImportError", 3)] == (
        "fallback for 'declare_late' is tagged but not evaluated: 'the XPU pin is upgraded to 1.0+' is not "
        "a minimum supported version of demo-lib (tag: 'The separately pinned XPU demo-lib 0.5 predates "
        "declarations. Remove when the XPU pin is upgraded to 1.0+.')."
    )
    assert messages[at("except ImportError", 4)].startswith(
        "fallback for 'publish' is tagged but not evaluated: the tag removes only part of the branch"
    )


def test_a_wider_window_leaves_tags_not_evaluated_rather_than_untagged(tmp_path: Path) -> None:
    kinds = {kind for _, kind, _ in _findings(tmp_path, window=2)}
    assert kinds == {"compat-not-evaluated", "compat-untagged"}


def test_branches_are_data_a_pruner_can_act_on() -> None:
    branches = fallbacks_in(SHIM, "_compat.py", "demo-lib", ROOTS)
    first = branches[0]
    assert (first.try_line, first.try_end_line, first.handler_index, first.handler_line) == (2, 6, 0, 4)
    assert (first.handler_end_line, first.catches, first.enclosing, first.placement) == (
        6,
        ("ImportError",),
        (),
        "handler",
    )
    assert [(i.module, i.line) for i in first.imports] == [("demo_lib.new", 3)]
    assert first.tag is not None
    assert (first.tag.covers, first.tag.remove_at, first.tag.line, first.tag.end_line) == (
        "<= 0.9",
        "1.0",
        5,
        5,
    )
    two_lines = branches[1].tag
    assert two_lines is not None and (two_lines.line, two_lines.end_line, two_lines.remove_at) == (
        13,
        14,
        "1.0",
    )
    assert branches[1].catches == ("ModuleNotFoundError",)
    outer, inner = branches[2], branches[3]
    assert (outer.placement, outer.tag and outer.tag.remove_at) == ("body", "1.1")
    assert inner.enclosing == ((outer.try_line, 0),)  # inside the first handler of the outer try
    assert inner.imports[0].module == "demo_lib.overrides" and inner.names == ("declare_late",)
    assert (inner.placement, inner.tag and inner.tag.unevaluable) == ("handler", "condition")
    assert [b.tag is None for b in branches].count(True) == 1  # only `B` is untagged


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        (
            "Fallback for sglang 0.5.9. Remove when min supported version is 0.5.10+",
            ("0.5.9", "0.5.10", None),
        ),
        (
            "Fallback for sglang <= 0.5.9. Remove when min supported version is 0.6.0+",
            ("<= 0.5.9", "0.6.0", None),
        ),
        (
            "Fallback for SGLang 0.5.18. Remove when minimum supported SGLang is 0.5.19+.",
            ("0.5.18", "0.5.19", None),
        ),
        (
            "Fallback for sglang <v0.5.10. Remove when min supported version is v0.5.10+",
            ("<v0.5.10", "0.5.10", None),
        ),
        (
            "Fallback for the separately pinned XPU SGLang 0.5.11. "
            "Remove when the XPU pin is upgraded to 0.5.19+.",
            ("0.5.11", None, "condition"),
        ),
        (
            "Fallback for XPU SGLang 0.5.11. Remove when min supported version is 0.5.19+",
            ("0.5.11", "0.5.19", "other-pin"),
        ),
        ("Fallback for sglang <vX.Y. Remove when min supported version is vX.Y+", (None, "X.Y", "version")),
        ("Fallback for sglang 0.5.9.", ("0.5.9", None, "no-condition")),
        ("Remove when min supported vllm version is 0.11+", (None, None, "condition")),
    ],
)
def test_read_tag(comment: str, expected: tuple[str | None, str | None, str | None]) -> None:
    tag = read_tag(comment, "sglang", line=1, end_line=1)
    assert tag is not None and (tag.covers, tag.remove_at, tag.unevaluable) == expected


@pytest.mark.parametrize(
    "comment", ["noqa: F401", "sglang 0.5.9: _encode(mm_items) -> (grid_dim, embedding)"]
)
def test_other_comments_are_no_tags(comment: str) -> None:
    assert read_tag(comment, "sglang", line=1, end_line=1) is None


@pytest.mark.parametrize(
    ("comment", "floor", "expected"),
    [
        ("Fallback for sglang 0.5.9. Remove when min supported version is 0.5.10+", "0.5.10", True),
        ("Fallback for sglang 0.5.9. Remove when min supported version is 0.5.10+", "0.5.9", False),
        ("Fallback for sglang 0.5.9. Remove when min supported version is 0.5.10+", None, None),
        ("Remove when the XPU pin is upgraded to 0.5.19+.", "0.6", None),
    ],
)
def test_retired(comment: str, floor: str | None, expected: bool | None) -> None:
    tag = read_tag(comment, "sglang", line=1, end_line=1)
    assert tag is not None and retired(tag, floor) is expected
