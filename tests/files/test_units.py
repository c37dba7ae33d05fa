"""Lock-unit discovery: workspace members by uv's rules, locked subprojects, root variants, config."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError, ManifestError
from bot.files.config import Config, parse_config
from bot.files.units import discover_units, in_lock_order
from bot.model import Variant

PROJECT = '[project]\nname = "{name}"\nversion = "0.1.0"\n'


def _tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return root


def _workspace(members: str, exclude: str = "[]") -> str:
    return PROJECT.format(name="root") + f"\n[tool.uv.workspace]\nmembers = {members}\nexclude = {exclude}\n"


def test_members_follow_globs_and_exclude_and_skip_hidden_and_empty_directories(tmp_path: Path) -> None:
    repo = _tree(tmp_path, {
        "pyproject.toml": _workspace('["packages/*", "tools/cli"]', '["packages/old*"]'),
        "uv.lock": "",
        "packages/a/pyproject.toml": PROJECT.format(name="a"),
        "packages/b/pyproject.toml": PROJECT.format(name="b"),
        "packages/oldthing/pyproject.toml": PROJECT.format(name="old"),
        "packages/.hidden/pyproject.toml": PROJECT.format(name="hidden"),
        "packages/notes/README.md": "no project here",
        "tools/cli/pyproject.toml": PROJECT.format(name="cli"),
    })  # fmt: skip
    (unit,) = discover_units(repo, Config())
    assert (unit.name, unit.manifest, unit.lock) == ("default", "pyproject.toml", "uv.lock")
    assert unit.members == (
        "packages/a/pyproject.toml",
        "packages/b/pyproject.toml",
        "tools/cli/pyproject.toml",
    )
    assert unit.manifests[0] == "pyproject.toml"


def test_a_root_variant_of_a_workspace_has_its_own_members(tmp_path: Path) -> None:
    repo = _tree(tmp_path, {
        "pyproject.toml": _workspace('["packages/*"]'),
        "uv.lock": "",
        "pyproject.gpu.toml": _workspace('["packages/a"]'),
        "uv.gpu.lock": "",
        "packages/a/pyproject.toml": PROJECT.format(name="a"),
        "packages/b/pyproject.toml": PROJECT.format(name="b"),
    })  # fmt: skip
    default, gpu = discover_units(repo, Config())
    assert default.members == ("packages/a/pyproject.toml", "packages/b/pyproject.toml")
    assert (gpu.name, gpu.manifest, gpu.lock, gpu.members) == (
        "gpu", "pyproject.gpu.toml", "uv.gpu.lock", ("packages/a/pyproject.toml",)
    )  # fmt: skip


def test_locked_subprojects_are_units_in_dependency_order_and_members_are_not(tmp_path: Path) -> None:
    path = '\n[tool.uv.sources]\nkernel = { path = "../kernel" }\n'
    repo = _tree(tmp_path, {
        "packages/apps/pyproject.toml": PROJECT.format(name="apps") + path,
        "packages/apps/uv.lock": "",
        "packages/kernel/pyproject.toml": PROJECT.format(name="kernel"),
        "packages/kernel/uv.lock": "",
        "packages/docs/pyproject.toml": PROJECT.format(name="docs"),  # no lock: no unit
        "services/api/pyproject.toml": _workspace('["libs/*"]'),
        "services/api/uv.lock": "",
        "services/api/libs/auth/pyproject.toml": PROJECT.format(name="auth"),
        "services/api/libs/auth/uv.lock": "",  # a member's stray lock: uv uses the workspace's
        ".venv/lib/pyproject.toml": PROJECT.format(name="vendored"),
        ".venv/lib/uv.lock": "",
    })  # fmt: skip
    units = discover_units(repo, Config())
    assert [(u.name, u.lock, u.after) for u in units] == [
        ("packages/kernel", "packages/kernel/uv.lock", ()),
        ("packages/apps", "packages/apps/uv.lock", ("packages/kernel",)),
        ("services/api", "services/api/uv.lock", ()),
    ]
    assert units[2].members == ("services/api/libs/auth/pyproject.toml",)


def test_a_unit_reaching_a_locked_one_is_locked_again_after_it() -> None:
    kernel = Variant("kernel", "kernel/pyproject.toml", "kernel/uv.lock")
    apps = Variant("apps", "apps/pyproject.toml", "apps/uv.lock", after=("kernel",))
    site = Variant("site", "site/pyproject.toml", "site/uv.lock", after=("apps",))
    other = Variant("other", "other/pyproject.toml", "other/uv.lock")
    units = (site, apps, other, kernel)
    assert [u.name for u in in_lock_order(units, ["kernel"])] == ["kernel", "apps", "site"]
    assert [u.name for u in in_lock_order(units, ["apps", "other"])] == ["apps", "site", "other"]
    assert [u.name for u in in_lock_order(units, ["other"])] == ["other"]


def test_configured_units_name_a_directory(tmp_path: Path) -> None:
    repo = _tree(tmp_path, {
        "svc/pyproject.toml": _workspace('["libs/*"]'),
        "svc/libs/x/pyproject.toml": PROJECT.format(name="x"),
    })  # fmt: skip
    cpu_unit = {"name": "cpu", "directory": "svc/", "manifest": "pyproject.cpu.toml"}
    config = parse_config({"variant": [{"directory": "svc"}, cpu_unit]})
    _tree(repo, {"svc/pyproject.cpu.toml": _workspace("[]")})
    svc, cpu = discover_units(repo, config)
    assert (svc.name, svc.manifest, svc.lock, svc.members) == (
        "svc", "svc/pyproject.toml", "svc/uv.lock", ("svc/libs/x/pyproject.toml",)
    )  # fmt: skip
    assert (cpu.name, cpu.manifest, cpu.lock, cpu.members) == (
        "cpu",
        "svc/pyproject.cpu.toml",
        "svc/uv.cpu.lock",
        (),
    )


@pytest.mark.parametrize("directory", ["../elsewhere", "/etc"])
def test_a_configured_directory_outside_the_repository_is_refused(directory: str) -> None:
    with pytest.raises(ConfigError, match="directory"):
        parse_config({"variant": [{"directory": directory}]})


@pytest.mark.parametrize("members", ['["../*"]', '["/tmp/*"]', '"packages/*"'])
def test_a_workspace_glob_leaving_the_repository_or_malformed_is_refused(
    tmp_path: Path, members: str
) -> None:
    repo = _tree(tmp_path, {"pyproject.toml": _workspace(members), "uv.lock": ""})
    with pytest.raises(ManifestError, match=r"pyproject.toml \[tool.uv.workspace\] members"):
        discover_units(repo, Config())


def test_no_project_anywhere_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no pyproject\.toml"):
        discover_units(tmp_path, Config())


def test_a_manifest_that_is_not_toml_is_refused_by_its_path_and_line(tmp_path: Path) -> None:
    repo = _tree(tmp_path, {
        "pyproject.toml": _workspace('["packages/*"]'),
        "uv.lock": "",
        "packages/a/pyproject.toml": PROJECT.format(name="a"),
        "tools/x/pyproject.toml": '[project]\nname = "x"\n[tool.uv.sources\n',
        "tools/x/uv.lock": "",
    })  # fmt: skip
    with pytest.raises(ManifestError, match=r"tools/x/pyproject\.toml:3:\d+: invalid TOML"):
        discover_units(repo, Config())


def test_a_member_glob_reaching_outside_through_a_symlink_is_refused(tmp_path: Path) -> None:
    outside = _tree(tmp_path / "outside", {"pyproject.toml": PROJECT.format(name="stolen")})
    repo = _tree(tmp_path / "repo", {"pyproject.toml": _workspace('["packages/*"]'), "uv.lock": ""})
    (repo / "packages").mkdir()
    (repo / "packages" / "evil").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ManifestError, match="packages/evil, outside the repository"):
        discover_units(repo, Config())
