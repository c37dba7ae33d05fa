"""Variants locked at the same time in copies beside the repository give the bytes the swap gives."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.files import siblings
from bot.files.config import LockConfig, parse_config
from bot.pipeline.context import RunOptions, Runtime
from bot.pipeline.request import parse_request
from bot.pipeline.upgrade import run_upgrade
from bot.tools.isolation import Isolation
from bot.tools.uv import SWAP_DIR
from tests.support.backend import write_backend_package
from tests.support.repos import SGLANG_MANIFEST, STACK, VLLM_MANIFEST, dual_repo, git, lock, snapshot
from tests.support.wheels import build_wheelhouse

# Each variant: a marker-guarded pin, a path dependency outside the repository (built by its own
# backend), a workspace member inside it, and the wheelhouse beside the repository.
SHARED = """\
requires-python = ">=3.11"
dependencies = [
    "transformers==4.56.0",
    "peft>=0.17.0; sys_platform == 'linux'",
    "numpy>=2; sys_platform == 'win32'",
    "locallib",
    "member",
]

[tool.uv]
no-index = true
find-links = ["../wheels"]

[tool.uv.sources]
locallib = { path = "../lib" }
member = { workspace = true }

[tool.uv.workspace]
members = ["packages/member"]
"""
MEMBER = '[project]\nname = "member"\nversion = "0.2.0"\nrequires-python = ">=3.11"\ndependencies = []\n'


def _rich_repo(root: Path) -> Path:
    build_wheelhouse(STACK, root / "wheels")
    write_backend_package(root / "lib", "locallib", "1.0")
    repo = root / "repo"
    (repo / "packages" / "member").mkdir(parents=True)
    (repo / "packages" / "member" / "pyproject.toml").write_text(MEMBER)
    (repo / ".gitignore").write_text("upgrade-summary.md\n")
    for manifest, torch in (("pyproject.toml", "2.9.1"), ("pyproject.vllm.toml", "2.10.0")):
        head = '[project]\nname = "demo"\nversion = "0.1.0"\n'
        pins = f"    \"torch=={torch}; sys_platform != 'darwin'\",\n"
        (repo / manifest).write_text(head + SHARED.replace("dependencies = [\n", "dependencies = [\n" + pins))
    lock(repo)
    lock(repo, "pyproject.vllm.toml", "uv.vllm.lock")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    return repo


async def _run(repo: Path, environ: dict[str, str], isolation: Isolation, *, parallel: bool) -> list[str]:
    seen: list[str] = []

    async def progress(step: str) -> None:
        seen.append(step)

    config = repo.parent / "settings.toml"
    config.write_text(f"[lock]\nparallel = {str(parallel).lower()}\n")
    options = RunOptions(config_path=config)
    result = await run_upgrade(
        repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, isolation),
        options=options, progress=progress,
    )  # fmt: skip
    assert result.outcome == "landed", [u.message for u in result.unresolved]
    return seen


def _left_beside(repo: Path) -> list[str]:
    return sorted(p.name for p in repo.parent.iterdir() if p.name.startswith(f".{repo.name}."))


@pytest.mark.asyncio
async def test_parallel_copies_lock_byte_identical_to_the_sequential_swap(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    one, other = _rich_repo(tmp_path / "a"), _rich_repo(tmp_path / "b")
    assert snapshot(one) == snapshot(other)
    sequential = await _run(one, environ, isolation, parallel=False)
    parallel = await _run(other, environ, isolation, parallel=True)
    assert "lock default, vllm in parallel" in parallel
    assert not any("in parallel" in step for step in sequential)
    assert "lock one variant after the other: [lock] parallel = false" in sequential
    after = snapshot(other)
    assert after == snapshot(one)
    assert after["uv.vllm.lock"] != (tmp_path / "a" / "repo" / "uv.lock").read_bytes()
    assert b'source = { directory = "../lib" }' in after["uv.vllm.lock"]
    assert b'name = "member"' in after["uv.vllm.lock"] and b"sys_platform" in after["uv.vllm.lock"]
    assert b'version = "4.57.1"' in after["uv.vllm.lock"]
    assert _left_beside(other) == [] and not (other / ".git" / SWAP_DIR).exists()


@pytest.mark.asyncio
async def test_each_parallel_step_reports_its_duration(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = dual_repo(tmp_path)
    seen: list[str] = []

    async def progress(step: str) -> None:
        seen.append(step)

    result = await run_upgrade(
        repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, isolation), progress=progress
    )
    assert result.outcome == "landed", result
    locks = [step for step in seen if step.startswith("lock")]
    assert locks[0] == "lock default, vllm in parallel"
    assert set(locks[1:3]) == {"lock default", "lock vllm"}
    for name in ("default", "vllm"):
        [done] = [step for step in locks if step.startswith(f"lock {name} ") and step.endswith(" s")]
        assert float(done.split()[2]) > 0


@pytest.mark.asyncio
async def test_an_absolute_path_inside_the_repository_locks_one_variant_after_the_other(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    root = tmp_path / "repo"
    wheelhouse = f'find-links = ["{root}/wheelhouse"]'
    sglang = SGLANG_MANIFEST.replace('find-links = ["wheelhouse"]', wheelhouse)
    vllm = VLLM_MANIFEST.replace('find-links = ["wheelhouse"]', wheelhouse)
    repo = dual_repo(tmp_path, **{"pyproject.toml": sglang, "pyproject.vllm.toml": vllm})
    seen: list[str] = []

    async def progress(step: str) -> None:
        seen.append(step)

    result = await run_upgrade(
        repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, isolation), progress=progress
    )
    assert result.outcome == "landed", result
    reason = "pyproject.toml [tool.uv] find-links names an absolute path inside the repository"
    assert f"lock one variant after the other: {reason}" in seen


@pytest.mark.asyncio
async def test_a_tree_over_the_copy_limit_locks_one_variant_after_the_other(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = dual_repo(tmp_path)
    config = tmp_path / "settings.toml"
    config.write_text("[lock]\ncopy_limit_mb = 0.001\n")
    seen: list[str] = []

    async def progress(step: str) -> None:
        seen.append(step)

    result = await run_upgrade(
        repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, isolation),
        options=RunOptions(config_path=config), progress=progress,
    )  # fmt: skip
    assert result.outcome == "landed", result
    [fallback] = [step for step in seen if step.startswith("lock one variant after the other")]
    assert "MB, over the 0.001 MB copy limit" in fallback
    assert _left_beside(repo) == []


@pytest.mark.asyncio
async def test_cancelled_parallel_locks_leave_no_copy_and_no_swapped_file(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = dual_repo(tmp_path)
    before = snapshot(repo)
    copies: list[bool] = []

    async def progress(step: str) -> None:
        if step == "lock vllm":
            copies.append(siblings.sibling_root(repo, "vllm").is_dir())
            asyncio.get_running_loop().call_later(0.05, task.cancel)

    runtime = Runtime(environ, isolation)
    task = asyncio.ensure_future(
        run_upgrade(repo, parse_request(["transformers==4.57.1"]), runtime=runtime, progress=progress)
    )
    with pytest.raises(asyncio.CancelledError):
        await task
    assert copies == [True]
    assert snapshot(repo) == before
    assert _left_beside(repo) == [] and not (repo / ".git" / SWAP_DIR).exists()


@pytest.mark.asyncio
async def test_a_timeout_in_one_variant_stops_the_other_and_removes_its_copy(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = dual_repo(tmp_path)
    before = snapshot(repo)
    result = await run_upgrade(
        repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, isolation, uv_timeout=0.001)
    )
    assert result.outcome == "not-landed"
    assert result.error is not None and "uv lock did not finish within 0.001 s" in result.error
    assert snapshot(repo) == before
    assert _left_beside(repo) == []


@pytest.mark.asyncio
async def test_a_copy_a_killed_run_left_beside_the_repository_is_removed_by_the_next_run(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = dual_repo(tmp_path)
    tracked = git(repo, "ls-files").splitlines()
    stale = siblings.start_copy(repo, "vllm")
    siblings.fill_copy(repo, stale, tracked)
    (stale / "pyproject.toml").write_text("half written")
    foreign = tmp_path / f".{repo.name}.lock-notours"
    foreign.mkdir()  # no marker: someone else's directory, never removed
    result = await run_upgrade(
        repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, isolation)
    )
    assert result.outcome == "landed", result
    assert _left_beside(repo) == [foreign.name]


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"parallel": "yes"}, "[lock] key 'parallel': expected true or false, got 'yes'"),
        ({"copy_limit_mb": -1}, "[lock] key 'copy_limit_mb': expected a number above 0, got -1"),
        ({"threads": 2}, "threads"),
    ],
)
def test_a_bad_lock_table_is_refused_naming_the_key(table: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"lock": table})
    assert problem in str(raised.value)


def test_the_lock_table_defaults_to_parallel_copies_under_500_mb() -> None:
    assert parse_config({}).lock == LockConfig(parallel=True, copy_limit_mb=500.0)
    assert parse_config({"lock": {"parallel": False}}).lock.parallel is False


@pytest.mark.asyncio
async def test_a_sibling_path_taken_by_someone_else_locks_one_variant_after_the_other(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = dual_repo(tmp_path)
    taken = siblings.sibling_root(repo, "vllm")
    taken.write_text("not ours")
    seen: list[str] = []

    async def progress(step: str) -> None:
        seen.append(step)

    result = await run_upgrade(
        repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, isolation), progress=progress
    )
    assert result.outcome == "landed", result
    assert f"lock one variant after the other: cannot copy the tree to {taken}: File exists" in seen
    assert taken.read_text() == "not ours"


@pytest.mark.asyncio
async def test_parallel_variants_report_in_the_variants_order_not_the_order_they_finish(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    # Both variants cannot take transformers 4.57.1 (legacy-kernels caps numpy below what it needs);
    # the default variant's path dependency takes a second to build, so the vllm variant fails first.
    write_backend_package(tmp_path / "slow", "slowlib", "1.0", hook="import time\ntime.sleep(1)")
    extra = '    "legacy-kernels",\n    "slowlib",\n]\n'
    sources = '\n[tool.uv.sources]\nslowlib = { path = "../slow" }\n'
    sglang = SGLANG_MANIFEST.replace('    "peft>=0.17.0",\n]\n', '    "peft>=0.17.0",\n' + extra) + sources
    vllm = VLLM_MANIFEST.replace(
        '    "peft>=0.17.0",\n]\n', '    "peft>=0.17.0",\n    "legacy-kernels",\n]\n'
    )
    repo = dual_repo(tmp_path, **{"pyproject.toml": sglang, "pyproject.vllm.toml": vllm})
    # uv would reuse the metadata it built for the baseline: a newer pyproject.toml makes it build again.
    later = time.time() + 10
    os.utime(tmp_path / "slow" / "pyproject.toml", (later, later))
    finished: list[str] = []

    async def progress(step: str) -> None:
        if step.startswith("lock ") and step.endswith(" s"):
            finished.append(step.split()[1])

    result = await run_upgrade(
        repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, isolation), progress=progress
    )
    assert result.outcome == "not-landed"
    conflicts = [u.message.split(":")[0] for u in result.unresolved if u.kind == "conflict"]
    assert finished == ["vllm", "default"]  # the premise: they finish in the other order
    assert conflicts == ["variant default", "variant vllm"], (conflicts, finished)
