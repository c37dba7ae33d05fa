"""uv workspaces and monorepos: every member's pins move, each unit is locked once, in dependency order,
and every lock is what uv makes of the manifests afterwards."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest

from bot.files.config import Config
from bot.files.lockfile import read_lock
from bot.files.units import discover_units
from bot.model import UpgradeResult
from bot.pipeline.botpr import VariantFiles, derive_request
from bot.pipeline.context import Runtime
from bot.pipeline.request import parse_request
from bot.pipeline.result_json import result_document
from bot.pipeline.upgrade import run_upgrade
from bot.tools.isolation import Isolation
from tests.support.audit_repo import MAIN, demo_specs
from tests.support.repos import git, snapshot
from tests.support.wheels import build_wheelhouse
from tests.support.workspaces import (
    build,
    check_lock,
    gpu_workspace_files,
    lock_in,
    member,
    monorepo_files,
    workspace_files,
)

pytestmark = pytest.mark.asyncio

OLD, NEW = '"transformers==4.56.0"', '"transformers==4.57.1"'
SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "run-result.schema.json"
MONO = ("packages/sage-kernel", "packages/sage-apps", "packages/sage-tools")


def _edited_only(before: dict[str, bytes], after: dict[str, bytes], edits: dict[str, tuple[str, str]],
                 locks: set[str]) -> None:  # fmt: skip
    """Every tracked file is byte-for-byte as before, except the edited manifests (exactly the edit)
    and the re-locked locks."""
    assert set(after) == set(before)
    for path, data in before.items():
        if path in locks:
            assert after[path] != data, path
        elif path in edits:
            old, new = edits[path]
            assert data.decode().count(old) == 1, path
            assert after[path].decode() == data.decode().replace(old, new), path
        else:
            assert after[path] == data, path


async def _run(repo: Path, words: list[str], environ: dict[str, str], isolation: Isolation,
               progress: list[str] | None = None) -> UpgradeResult:  # fmt: skip
    async def seen(step: str) -> None:
        if progress is not None:
            progress.append(step)

    return await run_upgrade(repo, parse_request(words), runtime=Runtime(environ, isolation), progress=seen)


def _versions(repo: Path, lock: str, package: str) -> tuple[str, ...]:
    return read_lock(repo, lock).versions().get(package, ())


async def test_a_member_pinning_differently_needs_a_choice_and_changes_nothing(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = build(tmp_path, workspace_files())
    before = snapshot(repo)
    result = await run_upgrade(
        repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, isolation)
    )
    assert result.outcome == "refused", result
    assert "packages/c/pyproject.toml: >=4.56" in str(result.error)
    assert "packages/a/pyproject.toml: ==4.56.0" in str(result.error)
    assert snapshot(repo) == before
    check_lock(repo)


async def test_naming_the_workspace_moves_every_member_and_locks_once_at_the_root(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = build(tmp_path, workspace_files())
    before = snapshot(repo)
    progress: list[str] = []

    async def seen(step: str) -> None:
        progress.append(step)

    result = await run_upgrade(
        repo,
        parse_request(["transformers==4.57.1@default"]),
        runtime=Runtime(environ, isolation),
        progress=seen,
    )
    assert result.outcome == "landed", result
    edits = {
        "packages/a/pyproject.toml": (OLD, NEW),
        "packages/b/pyproject.toml": (OLD, NEW),
        "packages/c/pyproject.toml": ('"transformers>=4.56"', '"transformers>=4.57.1"'),
    }  # the excluded packages/scratch, the root and every workspace source stay as they were
    _edited_only(before, snapshot(repo), edits, {"uv.lock"})
    assert _locks_started(progress) == ["lock default"]
    assert _versions(repo, "uv.lock", "transformers") == ("4.57.1",)
    assert {c.package: c.variants for c in result.changes}["transformers"] == ("default",)
    check_lock(repo)
    assert git(repo, "status", "--porcelain") == ""


async def test_a_package_only_one_member_declares_moves_there(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = build(tmp_path, workspace_files())
    before = snapshot(repo)
    result = await _run(repo, ["torch==2.10.0"], environ, isolation)
    assert result.outcome == "landed", result
    edits = {"packages/b/pyproject.toml": ('"torch==2.9.1"', '"torch==2.10.0"')}
    _edited_only(before, snapshot(repo), edits, {"uv.lock"})
    check_lock(repo)


async def test_a_workspace_member_is_chosen_by_its_directory(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = build(tmp_path, workspace_files())
    before = snapshot(repo)
    words = ["transformers==4.57.1@packages/a", "transformers==4.57.1@packages/b/"]
    result = await _run(repo, words, environ, isolation)
    assert result.outcome == "landed", result
    edits = {"packages/a/pyproject.toml": (OLD, NEW), "packages/b/pyproject.toml": (OLD, NEW)}
    _edited_only(before, snapshot(repo), edits, {"uv.lock"})  # c's range admits 4.57.1: kept
    check_lock(repo)


async def test_a_workspace_with_a_root_variant_moves_shared_members_once_and_locks_both(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = build(tmp_path, gpu_workspace_files(), variants=[("pyproject.gpu.toml", "uv.gpu.lock")])
    before = snapshot(repo)
    result = await run_upgrade(
        repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, isolation)
    )
    assert result.outcome == "landed", result
    edits = {f"packages/{m}/pyproject.toml": (OLD, NEW) for m in "abc"}
    _edited_only(before, snapshot(repo), edits, {"uv.lock", "uv.gpu.lock"})
    assert {c.package: c.variants for c in result.changes}["transformers"] == ("default", "gpu")
    assert _versions(repo, "uv.gpu.lock", "torch") == ("2.10.0",)  # the gpu root's own pin, kept
    check_lock(repo)
    check_lock(repo, manifest="pyproject.gpu.toml", lock_file="uv.gpu.lock")


async def test_a_monorepo_locks_each_project_and_a_dependent_one_after_its_dependency(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = build(tmp_path, monorepo_files(), folders=MONO)
    before = snapshot(repo)
    progress: list[str] = []
    result = await _run(repo, ["transformers==4.57.1"], environ, isolation, progress)
    assert result.outcome == "landed", result
    edits = {
        f"{folder}/pyproject.toml": (OLD, NEW) for folder in ("packages/sage-kernel", "packages/sage-tools")
    }
    # sage-docs has no lock of its own: no unit, so its pin is left as it is.
    _edited_only(before, snapshot(repo), edits, {f"{folder}/uv.lock" for folder in MONO})
    locks = _locks_started(progress)
    assert locks.index("lock packages/sage-kernel") < locks.index("lock packages/sage-apps")
    # Independent units lock at the same time, each in its own directory; sage-apps, which needs
    # sage-kernel by path, locks once sage-kernel's lock is written.
    waves = [step for step in progress if step.endswith(" in parallel")]
    assert len(waves) == 1 and "packages/sage-tools" in waves[0], progress
    assert not ("packages/sage-kernel" in waves[0] and "packages/sage-apps" in waves[0])
    assert {c.package: c.variants for c in result.changes}["transformers"] == MONO
    document = json.loads(json.dumps(result_document(result, summary="upgrade-summary.md")))
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(document)
    assert document["variants"][1] == {
        "name": "packages/sage-apps", "manifest": "packages/sage-apps/pyproject.toml",
        "lock": "packages/sage-apps/uv.lock", "members": [], "after": ["packages/sage-kernel"],
    }  # fmt: skip
    for folder in MONO:
        check_lock(repo, folder)
        assert _versions(repo, f"{folder}/uv.lock", "transformers") == ("4.57.1",)


async def test_a_bot_pr_that_moved_one_member_is_completed(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = build(tmp_path, gpu_workspace_files(), variants=[("pyproject.gpu.toml", "uv.gpu.lock")])
    base = snapshot(repo)
    member = repo / "packages/a/pyproject.toml"
    member.write_text(member.read_text().replace(OLD, NEW))  # the bot's edit: one member, no lock
    git(repo, "commit", "-qam", "Bump transformers in packages/a")
    head = snapshot(repo)
    units = ("default", "pyproject.toml", "uv.lock"), ("gpu", "pyproject.gpu.toml", "uv.gpu.lock")
    found = discover_units(repo, Config())
    assert [(v.name, v.manifest, v.lock) for v in found] == list(units)

    def side(files: dict[str, bytes], v: object) -> VariantFiles:
        unit = next(u for u in found if u.name == v)
        members = {path: files[path].decode() for path in unit.members}
        return VariantFiles(files[unit.manifest].decode(), files[unit.lock].decode(), members)

    words = derive_request(
        found, {v.name: side(base, v.name) for v in found}, {v.name: side(head, v.name) for v in found}
    )
    assert words == ("transformers==4.57.1@default", "transformers==4.57.1@gpu")
    result = await _run(repo, list(words), environ, isolation)
    assert result.outcome == "landed", result
    edits = {f"packages/{m}/pyproject.toml": (OLD, NEW) for m in "bc"}
    _edited_only(head, snapshot(repo), edits, {"uv.lock", "uv.gpu.lock"})
    check_lock(repo)
    check_lock(repo, manifest="pyproject.gpu.toml", lock_file="uv.gpu.lock")


async def test_the_workspace_example_upgrades_as_the_readme_shows(
    project_root: Path, tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = tmp_path / "example"
    shutil.copytree(project_root / "examples" / "workspace", repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "example")
    before = snapshot(repo)
    result = await _run(repo, ["transformers==4.57.1"], environ, isolation)
    assert result.outcome == "landed", result
    edits = {f"packages/{name}/pyproject.toml": (OLD, NEW) for name in ("core", "train")}
    _edited_only(before, snapshot(repo), edits, {"uv.lock", "services/api/uv.lock"})
    assert {c.package: c.variants for c in result.changes}["transformers"] == ("default", "services/api")
    check_lock(repo)
    check_lock(repo, "services/api")


async def test_a_members_own_pin_that_blocks_is_moved_in_that_member(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    files = workspace_files()
    files["packages/b/pyproject.toml"] = member("ws-b", ["transformers==4.56.0", "numpy==2.2.6"])
    repo = build(tmp_path, files)
    before = snapshot(repo)
    result = await _run(repo, ["transformers==4.57.1@default"], environ, isolation)
    assert result.outcome == "landed", result
    (resolution,) = result.resolutions
    assert (resolution.package, resolution.old_specifier, resolution.new_specifier) == (
        "numpy", "==2.2.6", "==2.3.5"
    )  # fmt: skip
    assert [d.manifest for d in resolution.declarations] == ["packages/b/pyproject.toml"]
    b = before["packages/b/pyproject.toml"].decode().replace(OLD, NEW).replace("numpy==2.2.6", "numpy==2.3.5")
    assert (repo / "packages/b/pyproject.toml").read_text() == b
    assert (repo / "pyproject.toml").read_bytes() == before["pyproject.toml"]
    check_lock(repo)


async def test_an_upstream_conflict_is_located_at_the_members_pin(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    files = workspace_files()
    files["packages/b/pyproject.toml"] = member("ws-b", ["transformers==4.56.0", "legacy-kernels==1.0"])
    repo = build(tmp_path, files)
    before = snapshot(repo)
    result = await _run(repo, ["transformers==4.57.1@default"], environ, isolation)
    assert result.outcome == "not-landed", result
    (conflict,) = [u for u in result.unresolved if u.kind == "conflict"]
    # Located at the requested pin, in the first member that writes it.
    assert (conflict.file, conflict.line) == ("packages/a/pyproject.toml", 7)
    assert snapshot(repo) == before


async def test_the_audit_reads_call_sites_in_every_members_sources(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    root = '[project]\nname = "ws-root"\nversion = "0.1.0"\nrequires-python = ">=3.11"\ndependencies = []\n'
    tail = (
        '\n[tool.uv.workspace]\nmembers = ["packages/*"]\n'
        + '\n[tool.uv]\nno-index = true\nfind-links = ["wheelhouse"]\n'
    )
    repo = tmp_path / "repo"
    build_wheelhouse(demo_specs(), repo / "wheelhouse")
    files = {
        "pyproject.toml": root + tail,
        "packages/svc/pyproject.toml": member("svc", ["demo-lib==1.0"]),
        "packages/svc/app/__init__.py": "",
        "packages/svc/app/main.py": MAIN,
    }
    for relative, text in files.items():
        (repo / relative).parent.mkdir(parents=True, exist_ok=True)
        (repo / relative).write_text(text, encoding="utf-8")
    (repo / ".gitignore").write_text("upgrade-summary.md\n", encoding="utf-8")
    lock_in(repo, ".")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    result = await _run(repo, ["demo-lib==2.0"], environ, isolation)
    assert result.outcome == "breaking", result
    files_found = {finding.file for finding in result.findings}
    assert "packages/svc/app/main.py" in files_found, result.findings
    assert (repo / "packages/svc/pyproject.toml").read_text().count('"demo-lib==2.0"') == 1
    check_lock(repo)


async def test_a_member_shared_by_two_root_variants_relocks_both_when_one_is_named(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = build(tmp_path, gpu_workspace_files(), variants=[("pyproject.gpu.toml", "uv.gpu.lock")])
    result = await _run(repo, ["transformers==4.57.1@gpu"], environ, isolation)
    assert result.outcome == "landed", result
    assert NEW in (repo / "packages/a/pyproject.toml").read_text()
    assert _versions(repo, "uv.lock", "transformers") == ("4.57.1",)  # the member's new pin, in both
    check_lock(repo)
    check_lock(repo, manifest="pyproject.gpu.toml", lock_file="uv.gpu.lock")


async def test_a_workspace_member_is_no_package_to_upgrade(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = build(tmp_path, workspace_files())
    before = snapshot(repo)
    result = await _run(repo, ["ws-b==0.2.0"], environ, isolation)
    assert result.outcome == "refused", result
    assert "ws-b is the repository's own project (packages/b/pyproject.toml)" in str(result.error)
    assert snapshot(repo) == before


def _locks_started(progress: list[str]) -> list[str]:
    """The lock steps as they start: not their durations (`lock default 0.2 s`) or `still running`."""
    return [s for s in progress if s.startswith("lock ") and not re.search(r"\d s\)?$", s)]
