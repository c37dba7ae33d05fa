"""Version guards the new floor makes dead, and the compat-shim policy (tags, window, gates, stub lists)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.audit.compat import ShimContext, check_shims
from bot.audit.guards import Guard, find_guards, outcome
from bot.files.config import CompatShim

ROOTS = frozenset({"demo_lib"})


@pytest.mark.parametrize(
    ("op", "bound", "floor", "expected"),
    [
        ("<", "2.0", "2.0", False),
        (">=", "2.0", "2.0", True),
        (">", "2.0", "2.0", None),
        ("<=", "1.9", "2.0", False),
        (">", "1.9", "2.0", True),
        ("==", "1.0", "2.0", False),
        ("!=", "1.0", "2.0", True),
        ("<", "3.0", "2.0", None),
        (">=", "3.0", "2.0", None),
        ("<", "not-a-version", "2.0", None),
    ],
)
def test_outcome(op: str, bound: str, floor: str, expected: bool | None) -> None:
    assert outcome(Guard("f.py", 1, 1, "", op, bound), floor) is expected


def test_guard_forms(tmp_path: Path) -> None:
    (tmp_path / "g.py").write_text(
        "import importlib.metadata\n"
        "import demo_lib as dl\n"
        "from packaging import version as pv\n"
        "V = importlib.metadata.version('Demo_Lib')\n"
        "a = dl.__version__ >= '1.2'\n"
        "b = '1.5' > V\n"
        "c = pv.parse(V) < pv.Version('3')\n"
        "d = importlib.metadata.version('other') < '1'\n"
        "e = dl.__version__ < some_variable\n",
        encoding="utf-8",
    )
    guards = find_guards(tmp_path, "demo-lib", ROOTS)
    assert [(g.line, g.op, g.bound) for g in guards] == [(5, ">=", "1.2"), (6, "<", "1.5"), (7, "<", "3")]


SHIM = """\
import demo_lib
try:
    from demo_lib.new import A
except ImportError:
    # Fallback for demo-lib <v2.0. Remove when min supported version is v2.0+
    from demo_lib.old import A
try:
    from demo_lib.fast import B
except (ImportError, AttributeError):
    # Fallback for demo-lib <1.0. Remove when min supported version is 1.0+
    B = None
try:
    import numpy
except ImportError:
    numpy = None
"""


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (0, [(4, "compat-removable"), (3, "stub-missing"), (9, "compat-removable")]),
        (1, [(9, "compat-removable")]),
        # A window of 2 needs the release history: the tags are read, not judged.
        (2, [(4, "compat-not-evaluated"), (9, "compat-not-evaluated")]),
    ],
)
def test_shim_window(tmp_path: Path, window: int, expected: list[tuple[int, str]]) -> None:
    (tmp_path / "_compat.py").write_text(SHIM, encoding="utf-8")
    (tmp_path / "stubs.py").write_text('MOCKS = ("demo_lib.fast",)\n', encoding="utf-8")
    context = ShimContext("demo-lib", ROOTS, old="1.0", new="2.0", window=window)
    findings = check_shims(tmp_path, (CompatShim("demo-lib", ("_compat.py",), ("stubs.py",)),), context)
    assert [(f.line, f.kind) for f in findings] == expected


def test_shim_of_another_package_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "_compat.py").write_text(SHIM, encoding="utf-8")
    context = ShimContext("demo-lib", ROOTS, old="1.0", new="2.0", window=1)
    assert check_shims(tmp_path, (CompatShim("sglang", ("_compat.py",)),), context) == []


def test_missing_shim_file_is_reported_at_its_config_line(tmp_path: Path) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github/upgrade-deps.toml").write_text(
        '[[compat.shim]]\npackage = "demo-lib"\nfiles = ["src/_compat.py"]\n', encoding="utf-8"
    )
    context = ShimContext("demo-lib", ROOTS, old="1.0", new="2.0", window=1)
    shims = (CompatShim("demo-lib", ("src/_compat.py",)),)
    (finding,) = check_shims(tmp_path, shims, context, config_file=".github/upgrade-deps.toml")
    assert (finding.file, finding.line, finding.kind, finding.severity) == (
        ".github/upgrade-deps.toml",
        3,
        "compat-missing-file",
        "warning",
    )
    assert finding.message == (
        "the compat shim file 'src/_compat.py' configured for demo-lib does not exist; "
        "the N / N-1 policy cannot be checked there."
    )
