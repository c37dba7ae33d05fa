"""How discovery decided: `upgrade-deps run --explain` and the summary's Lock Units section."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import cli
from bot.model import Request, Requested, Section, UpgradeResult, Variant, VersionChange
from bot.pipeline.summary import render_summary
from tests.support.golden import assert_golden
from tests.support.repos import git
from tests.support.workspaces import gpu_workspace_files, monorepo_files

GOLDEN = Path(__file__).parent / "golden"


def _tree(root: Path, files: dict[str, str], locks: list[str]) -> Path:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    for lock in locks:
        (root / lock).write_text("version = 1\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "tree")
    return root


@pytest.mark.parametrize(
    ("name", "files", "locks"),
    [
        ("monorepo", monorepo_files(), [f"packages/sage-{p}/uv.lock" for p in ("kernel", "apps", "tools")]),
        ("workspace", gpu_workspace_files(), ["uv.lock", "uv.gpu.lock"]),
    ],
)
def test_explain_lists_units_manifests_locks_and_what_no_unit_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, files: dict[str, str], locks: list[str]
) -> None:
    repo = _tree(tmp_path, files, locks)
    before = git(repo, "status", "--porcelain", "--ignored")
    assert cli.main(["run", "--repo", str(repo), "--explain"]) == 0
    assert_golden(capsys.readouterr().out, GOLDEN / f"explain-units-{name}.txt")
    assert git(repo, "status", "--porcelain", "--ignored") == before  # no summary, nothing written


def test_explain_without_any_project_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _tree(tmp_path, {"README.md": "nothing to lock\n"}, [])
    assert cli.main(["run", "--repo", str(repo), "--explain"]) != 0
    assert "no pyproject.toml" in capsys.readouterr().err


def test_the_summary_lists_units_of_a_workspace() -> None:
    units = (
        Variant("default", "pyproject.toml", "uv.lock", members=("packages/a/pyproject.toml",)),
        Variant("packages/apps", "packages/apps/pyproject.toml", "packages/apps/uv.lock",
                after=("packages/kernel",)),
        Variant("packages/kernel", "packages/kernel/pyproject.toml", "packages/kernel/uv.lock"),
    )  # fmt: skip
    change = VersionChange("transformers", ("4.56.0",), ("4.57.1",), tuple(u.name for u in units), True, True)
    result = UpgradeResult(
        request=Request((Requested("transformers", "transformers", "4.57.1"),), "transformers==4.57.1"),
        outcome="landed",
        date="2026-12-02",
        variants=units,
        changes=(change,),
        sections={"lock": Section("done"), "pins": Section("done")},
    )
    assert_golden(render_summary(result), GOLDEN / "summary-units.md")


def test_the_summary_of_root_variants_only_has_no_units_section() -> None:
    units = (
        Variant("default", "pyproject.toml", "uv.lock"),
        Variant("gpu", "pyproject.gpu.toml", "uv.gpu.lock"),
    )
    result = UpgradeResult(request=Request((), ""), outcome="nothing", date="2026-12-02", variants=units)
    assert "### Lock Units" not in render_summary(result)
