"""Repository files the fixes cannot trust are left alone: the findings stay, the run goes on."""

from __future__ import annotations

from pathlib import Path

from bot.files import repofiles
from bot.files.config import CompatConfig, CompatShim, Config
from bot.fix.api_fix import api_fix
from bot.fix.compat_fix import compat_fix
from bot.model import Finding, PackageAudit

SHIM = """\
try:
    from pkg.new import A
except ImportError:
    # Fallback for pkg <= 1.0. Remove when min supported version is 2.0+
    from pkg.old import A
"""


def _audit(*findings: Finding) -> PackageAudit:
    return PackageAudit("pkg", "1.0", "2.0", findings=findings, roots=("pkg",))


def _removable(file: str) -> Finding:
    return Finding(file, 3, 1, "pkg", "A", "compat-removable", "warning", "removable")


def test_a_stub_list_linked_out_of_the_repository_is_not_followed(tmp_path: Path) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "outside.py"
    repo.mkdir()
    outside.write_text('MOCKS = ["pkg"]\n')
    (repo / "stubs.py").symlink_to(outside)
    (repo / "_compat.py").write_text(SHIM)
    config = Config(compat=CompatConfig(shims=(CompatShim("pkg", ("_compat.py",), ("stubs.py",)),)))
    result, edits = compat_fix(
        config, _audit(_removable("_compat.py")), read=lambda p: repofiles.read_text(repo, p)
    )
    assert result is not None and [w.action for w in result.rewrites] == ["fallback"]
    assert list(edits.changed()) == ["_compat.py"]
    assert outside.read_text() == 'MOCKS = ["pkg"]\n'


def test_unparseable_and_deeply_nested_files_are_left_alone(tmp_path: Path) -> None:
    # Past CPython's nesting limit, and a chain libcst would take minutes over.
    nested = "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n"
    chain = "y = " + "+".join(["a"] * 20000) + "\n"
    texts = {"_compat.py": SHIM.replace("A\n", "A(\n", 1), "deep.py": nested + SHIM, "long.py": SHIM + chain}
    shims = CompatConfig(shims=(CompatShim("pkg", ("_compat.py", "deep.py", "long.py")),))
    audit = _audit(_removable("_compat.py"), _removable("deep.py"), _removable("long.py"))
    assert compat_fix(Config(compat=shims), audit, read=texts.__getitem__)[0] is None
    moved = Finding(
        "deep.py", 1, 1, "pkg", "pkg.a.X", "moved", "error", "moved", replacement=("pkg.a.X", "pkg.b.X")
    )
    assert api_fix(Config(), _audit(moved), read=texts.__getitem__)[0] is None
