"""The upgrade pipeline end to end on real repositories with the real uv and git."""

from __future__ import annotations

import os
import time
import tomllib
from pathlib import Path

import pytest

from benchmarks.mirror import build_mirror
from bot.files.lockfile import read_lock
from bot.pipeline.context import RunOptions, Runtime
from bot.pipeline.request import parse_request
from bot.pipeline.upgrade import run_upgrade
from bot.tools.isolation import Isolation
from bot.tools.isolation_host import open_isolation
from tests.support.backend import write_backend_package
from tests.support.repos import STACK, dual_repo, git, lock, make_repo, snapshot
from tests.support.wheels import build_wheelhouse

pytestmark = pytest.mark.asyncio


def locked(repo: Path, lock: str, package: str) -> tuple[str, ...]:
    return read_lock(repo, lock).versions().get(package, ())


async def test_shared_bump_edits_both_manifests_and_relocks_both_variants(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = dual_repo(tmp_path)
    result = await run_upgrade(
        repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, isolation)
    )
    assert result.outcome == "landed", result
    for manifest in ("pyproject.toml", "pyproject.vllm.toml"):
        assert '"transformers==4.57.1",' in (repo / manifest).read_text()
    assert locked(repo, "uv.lock", "transformers") == ("4.57.1",)
    assert locked(repo, "uv.vllm.lock", "transformers") == ("4.57.1",)
    rows = {c.package: c for c in result.changes}
    assert rows["transformers"].variants == ("default", "vllm")
    assert rows["transformers"].requested
    # numpy moved only because transformers 4.57.1 needs it: a transitive bump, in both variants.
    assert rows["numpy"].old == ("2.2.6",) and rows["numpy"].new == ("2.3.5",)
    assert not rows["numpy"].requested
    assert [c.message.splitlines()[0] for c in result.commits] == [
        "Pin transformers 4.57.1",
        "Re-lock default, vllm after the upgrade",
    ]
    assert git(repo, "status", "--porcelain") == ""
    # Nothing of the swap is left behind, and the default files are the committed ones.
    assert not (repo / ".git" / "upgrade-deps-swap").exists()
    assert "# SGLang variant" in (repo / "pyproject.toml").read_text()


async def test_variant_only_package_leaves_the_other_variant_byte_identical(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = dual_repo(tmp_path)
    before = snapshot(repo)
    result = await run_upgrade(
        repo,
        parse_request(["vllm==0.11.1", "transformers==4.57.1@vllm"]),
        runtime=Runtime(environ, isolation),
    )
    assert result.outcome == "landed", result
    after = snapshot(repo)
    assert after["pyproject.toml"] == before["pyproject.toml"]
    assert after["uv.lock"] == before["uv.lock"]
    assert after["pyproject.vllm.toml"] != before["pyproject.vllm.toml"]
    assert locked(repo, "uv.vllm.lock", "vllm") == ("0.11.1",)
    assert {c.package: c.variants for c in result.changes}["vllm"] == ("vllm",)


async def test_formatting_is_preserved_outside_the_edited_specifiers(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    manifest = """\
# comment at the top
[project]
name    =   "demo"   # odd spacing kept
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
    'transformers == 4.56.0 ; python_version >= "3.11"',  # literal string, spaces, marker
    "peft>=0.17.0",
]

[dependency-groups]
dev = ["transformers[torch]==4.56.0"]

[tool.uv]
no-index = true
find-links = ["wheelhouse"]
constraint-dependencies = ["transformers<=4.56.0"]
"""
    repo = make_repo(tmp_path, {"pyproject.toml": manifest})
    result = await run_upgrade(
        repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, isolation)
    )
    assert result.outcome == "landed", result
    expected = (
        manifest.replace("'transformers == 4.56.0 ;", "'transformers == 4.57.1 ;")
        .replace('"transformers[torch]==4.56.0"', '"transformers[torch]==4.57.1"')
        .replace('"transformers<=4.56.0"', '"transformers<=4.57.1"')
    )
    assert (repo / "pyproject.toml").read_text() == expected


async def test_shared_divergent_package_without_variant_is_refused(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = dual_repo(tmp_path)
    before = snapshot(repo)
    result = await run_upgrade(repo, parse_request(["torch==2.10.0"]), runtime=Runtime(environ, isolation))
    assert result.outcome == "refused"
    assert result.error is not None
    assert "default: 2.9.1 (==2.9.1)" in result.error and "vllm: 2.10.0 (==2.10.0)" in result.error
    assert "torch==2.10.0@<variant>" in result.error
    assert snapshot(repo) == before and git(repo, "status", "--porcelain") == ""


async def test_per_variant_versions_of_a_divergent_package(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = dual_repo(tmp_path)
    result = await run_upgrade(
        repo, parse_request(["torch==2.10.0@default", "sglang==0.5.9"]), runtime=Runtime(environ, isolation)
    )
    # sglang 0.5.9 needs torch 2.9.1: a conflict between an upstream package and the request itself.
    assert result.outcome == "not-landed"
    assert any("sglang" in u.message and "torch" in u.message for u in result.unresolved)


async def test_our_own_pin_blocking_is_auto_resolved(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = dual_repo(tmp_path)
    result = await run_upgrade(repo, parse_request(["sglang==0.5.10"]), runtime=Runtime(environ, isolation))
    assert result.outcome == "landed", result
    [resolution] = result.resolutions
    assert (resolution.package, resolution.old_specifier, resolution.new_specifier) == (
        "transformers",
        "==4.56.0",
        "==4.57.1",
    )
    assert "sglang" in resolution.because and "transformers" in resolution.because
    assert '"transformers==4.57.1",' in (repo / "pyproject.toml").read_text()
    assert '"transformers==4.56.0",' in (repo / "pyproject.vllm.toml").read_text()
    assert [c.message.splitlines()[0] for c in result.commits] == [
        "Pin sglang 0.5.10",
        "Move transformers pin ==4.56.0 -> ==4.57.1 to resolve a conflict",
        "Re-lock default after the upgrade",
    ]


async def test_conflict_between_upstream_packages_needs_a_human(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    manifest = """\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["transformers==4.56.0", "legacy-kernels"]

[tool.uv]
no-index = true
find-links = ["wheelhouse"]
"""
    repo = make_repo(tmp_path, {"pyproject.toml": manifest})
    before = snapshot(repo)
    result = await run_upgrade(
        repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, isolation)
    )
    assert result.outcome == "not-landed"
    [issue] = result.unresolved
    assert issue.kind == "conflict" and "upstream packages require incompatible versions" in issue.message
    assert (
        "legacy-kernels" in issue.message and "numpy<2.3" in issue.message and "numpy>=2.3" in issue.message
    )
    assert result.commits == ()
    assert snapshot(repo) == before and git(repo, "status", "--porcelain") == ""


async def test_version_missing_from_the_index_is_explained(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = dual_repo(tmp_path)
    before = snapshot(repo)
    result = await run_upgrade(repo, parse_request(["sglang==0.9.9"]), runtime=Runtime(environ, isolation))
    assert result.outcome == "not-landed"
    [issue] = result.unresolved
    assert "cannot be installed from the configured index" in issue.message
    assert "sglang==0.9.9" in issue.message
    assert snapshot(repo) == before


async def test_an_override_that_keeps_the_old_version_is_not_called_success(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = tmp_path / "probe"
    wheel = "wheelhouse/transformers-4.56.0-py3-none-any.whl"
    manifest = """\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["transformers==4.56.0", "peft>=0.17.0"]

[tool.uv]
no-index = true
find-links = ["wheelhouse"]
override-dependencies = ["transformers @ file:///{root}/{wheel}"]
"""
    root = tmp_path / "repo"
    repo = make_repo(tmp_path, {"pyproject.toml": manifest.format(root=str(root).lstrip("/"), wheel=wheel)})
    before = snapshot(repo)
    result = await run_upgrade(
        repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, isolation)
    )
    assert result.outcome == "not-landed", result
    landed = [u for u in result.unresolved if u.kind == "not-landed"]
    assert len(landed) == 1, result.unresolved
    assert "transformers resolved to 4.56.0" in landed[0].message
    assert "[tool.uv].override-dependencies" in landed[0].message
    assert (landed[0].file, landed[0].line) == ("pyproject.toml", 10)
    assert snapshot(repo) == before


async def test_unknown_package_warns_and_goes_on(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = dual_repo(tmp_path)
    result = await run_upgrade(
        repo,
        parse_request(["transformers==4.57.1", "not-a-dependency==1.0"]),
        runtime=Runtime(environ, isolation),
    )
    assert result.outcome == "landed"
    assert any("not-a-dependency is neither declared nor locked" in w.message for w in result.warnings)


async def test_nothing_to_do_is_neutral(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = dual_repo(tmp_path)
    result = await run_upgrade(
        repo, parse_request(["transformers==4.56.0"]), runtime=Runtime(environ, isolation)
    )
    assert result.outcome == "nothing"
    assert result.commits == () and git(repo, "status", "--porcelain") == ""


async def test_no_commit_leaves_changes_in_the_work_tree(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = dual_repo(tmp_path)
    head = git(repo, "rev-parse", "HEAD")
    result = await run_upgrade(
        repo,
        parse_request(["transformers==4.57.1"]),
        runtime=Runtime(environ, isolation),
        options=RunOptions(commit=False),
    )
    assert result.outcome == "landed" and result.commits == ()
    assert git(repo, "rev-parse", "HEAD") == head
    assert set(git(repo, "status", "--porcelain").split()) >= {
        "M",
        "uv.lock",
        "uv.vllm.lock",
        "pyproject.toml",
    }


async def test_lock_files_parse_as_toml_after_the_run(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = dual_repo(tmp_path)
    await run_upgrade(repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, isolation))
    for name in ("uv.lock", "uv.vllm.lock"):
        assert tomllib.loads((repo / name).read_text())["package"]


async def test_moving_a_family_members_pin_warns_about_the_co_upgrade(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    config = '[package.sglang]\nfamily = "inference"\n[package.transformers]\nfamily = "inference"\n'
    repo = dual_repo(tmp_path, **{".github/upgrade-deps.toml": config})
    result = await run_upgrade(repo, parse_request(["sglang==0.5.10"]), runtime=Runtime(environ, isolation))
    assert result.outcome == "landed", result
    [warning] = [w for w in result.warnings if "co-upgrade" in w.message]
    assert warning.message.startswith("transformers (family inference) was not in the request")
    assert (warning.file, warning.line) == ("pyproject.toml", 8)


async def test_marker_split_versions_are_all_kept_in_the_baseline(tmp_path: Path) -> None:
    from bot.files.lockfile import parse_lock

    text = """\
version = 1
requires-python = ">=3.11"

[[package]]
name = "demo"
version = "0.1.0"
source = { virtual = "." }

[[package]]
name = "torch"
version = "2.9.1"
source = { registry = "https://pypi.org/simple" }
resolution-markers = ["sys_platform == 'darwin'"]

[[package]]
name = "torch"
version = "2.9.1+cu129"
source = { registry = "https://download.pytorch.org/whl/cu129" }
resolution-markers = ["sys_platform == 'linux'"]
"""
    lock = parse_lock(text, display="uv.lock")
    assert lock.versions() == {"torch": ("2.9.1", "2.9.1+cu129")}
    assert lock.roots == {"demo"}


def _repo_with_outside_paths(tmp_path: Path) -> Path:
    """A repository whose path dependency (built by its own backend) and wheelhouse live beside it."""
    build_wheelhouse(STACK, tmp_path / "wheels")
    write_backend_package(tmp_path / "lib", "locallib", "1.0", hook="open('built-here', 'w').close()")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        'dependencies = ["transformers==4.56.0", "locallib"]\n\n'
        '[tool.uv]\nno-index = true\nfind-links = ["../wheels"]\n\n'
        '[tool.uv.sources]\nlocallib = { path = "../lib" }\n'
    )
    lock(repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    (tmp_path / "lib" / "built-here").unlink()
    # uv would reuse the metadata it built above: a newer pyproject.toml makes it ask the backend again.
    os.utime(tmp_path / "lib" / "pyproject.toml", (time.time() + 10, time.time() + 10))
    return repo


async def test_a_path_dependency_outside_the_repository_is_built_in_the_sandbox(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = _repo_with_outside_paths(tmp_path)
    result = await run_upgrade(
        repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, isolation)
    )
    assert result.outcome == "landed", result
    assert locked(repo, "uv.lock", "transformers") == ("4.57.1",)
    assert 'source = { directory = "../lib" }' in (repo / "uv.lock").read_text()
    assert (tmp_path / "lib" / "built-here").exists()  # its backend ran, writing where it is built


async def test_the_service_refuses_to_show_a_path_dependency_among_its_own_files(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    repo = _repo_with_outside_paths(tmp_path)
    before = snapshot(repo)
    # As in the service: the temporary directory every job's clone lives in is never shown whole.
    strict = await open_isolation(environ, policy="require", protected=[tmp_path])
    result = await run_upgrade(
        repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, strict)
    )
    assert result.outcome == "refused"
    assert result.error is not None
    assert result.error.startswith("pyproject.toml [tool.uv.sources] locallib: ")
    assert "outside the repository" in result.error
    assert snapshot(repo) == before


async def test_a_local_index_outside_the_repository_is_readable_in_the_sandbox(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    url = build_mirror(STACK, tmp_path / "mirror", binary=frozenset())  # …/simple/, files in …/files/
    manifest = (
        '[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        'dependencies = ["transformers==4.56.0"]\n\n'
        f'[[tool.uv.index]]\nname = "mirror"\nurl = "{url}"\ndefault = true\n'
    )
    repo = make_repo(tmp_path, {"pyproject.toml": manifest}, wheels=())
    result = await run_upgrade(
        repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, isolation)
    )
    assert result.outcome == "landed", result
    assert locked(repo, "uv.lock", "transformers") == ("4.57.1",)
