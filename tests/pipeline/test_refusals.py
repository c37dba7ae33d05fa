"""Bad input through the real `upgrade-deps run` command: a clear message, exit code, nothing changed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.pipeline.context import Runtime
from bot.pipeline.request import parse_request
from bot.pipeline.upgrade import run_upgrade
from bot.tools.isolation import Isolation
from bot.tools.uv import SWAP_DIR
from tests.support.repos import dual_repo, git, snapshot


def cli(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--repo", str(repo), *args],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=120,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return dual_repo(tmp_path)


def assert_untouched(repo: Path, before: dict[str, bytes]) -> None:
    assert snapshot(repo) == before
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "rev-list", "--count", "HEAD").strip() == "1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sglang"], "argument 1 ('sglang'): expected pkg==version or pkg==version@variant"),
        (["sglang==0.5.x"], "argument 1 ('sglang==0.5.x'): '0.5.x' is not a valid version (PEP 440)"),
        (["-bad-==1.0"], "argument 1 ('-bad-==1.0'): '-bad-' is not a valid package name (PEP 508)"),
        (["sglang==1@"], "argument 1 ('sglang==1@'): '' is not a valid variant name"),
        (["torch==2.10.0@nope"], "'torch==2.10.0@nope': no variant 'nope' (variants: default, vllm)"),
        ([f"p{i}==1.0" for i in range(21)], "21 packages given; at most 20 per request"),
        (["--bogus"], "unknown option '--bogus'"),
    ],
)
def test_malformed_arguments_are_refused(repo: Path, args: list[str], message: str) -> None:
    before = snapshot(repo)
    done = cli(repo, *args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert_untouched(repo, before)


def test_invalid_toml_names_file_and_line(repo: Path) -> None:
    text = (repo / "pyproject.vllm.toml").read_text().replace('name = "demo"', 'name = "demo', 1)
    (repo / "pyproject.vllm.toml").write_text(text)
    git(repo, "commit", "-qam", "broken manifest")
    before = snapshot(repo)
    done = cli(repo, "transformers==4.57.1")
    assert done.returncode == 2
    assert "pyproject.vllm.toml:3:" in done.stderr and "invalid TOML" in done.stderr
    assert snapshot(repo) == before


def test_corrupt_lock_is_refused(repo: Path) -> None:
    (repo / "uv.vllm.lock").write_text("version = 1\n[[package]\n")
    git(repo, "commit", "-qam", "corrupt lock")
    before = snapshot(repo)
    done = cli(repo, "transformers==4.57.1")
    assert done.returncode == 2
    assert "uv.vllm.lock: corrupt lock file, not valid TOML" in done.stderr
    assert snapshot(repo) == before


def test_missing_lock_is_refused(repo: Path) -> None:
    git(repo, "rm", "-q", "uv.vllm.lock")
    (repo / ".github").mkdir()
    (repo / ".github" / "upgrade-deps.toml").write_text(
        '[[variant]]\nname = "sglang"\nmanifest = "pyproject.toml"\n'
        '[[variant]]\nname = "vllm"\nmanifest = "pyproject.vllm.toml"\n'
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "lock removed")
    done = cli(repo, "transformers==4.57.1")
    assert done.returncode == 2
    assert "uv.vllm.lock: lock file missing" in done.stderr


def test_bad_config_names_file_and_key(repo: Path) -> None:
    (repo / ".github").mkdir()
    (repo / ".github" / "upgrade-deps.toml").write_text('[[variant]]\nname = "x"\nmanifests = "p.toml"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "config")
    before = snapshot(repo)
    done = cli(repo, "transformers==4.57.1")
    assert done.returncode == 2
    assert ".github/upgrade-deps.toml: [[variant]] #1 key 'manifests': unknown key" in done.stderr
    assert snapshot(repo) == before


def test_dirty_work_tree_is_refused_and_kept(repo: Path) -> None:
    (repo / "pyproject.toml").write_text((repo / "pyproject.toml").read_text() + "# someone's edit\n")
    done = cli(repo, "transformers==4.57.1")
    assert done.returncode == 2
    assert "uncommitted changes (pyproject.toml)" in done.stderr
    assert (repo / "pyproject.toml").read_text().endswith("# someone's edit\n")


def test_version_not_on_the_index_exits_1_with_uvs_reason(repo: Path) -> None:
    before = snapshot(repo)
    done = cli(repo, "sglang==0.9.9")
    assert done.returncode == 1
    assert "there is no version of `sglang==0.9.9`" in done.stdout
    assert_untouched(repo, before)
    assert (repo / "upgrade-summary.md").exists()


@pytest.mark.asyncio
async def test_lock_timeout_restores_every_file(
    repo: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    before = snapshot(repo)
    result = await run_upgrade(
        repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, isolation, uv_timeout=0.001)
    )
    assert result.outcome == "not-landed"
    assert result.error is not None and "uv lock did not finish within 0.001 s" in result.error
    assert_untouched(repo, before)
    assert not (repo / ".git" / SWAP_DIR).exists()


@pytest.mark.asyncio
async def test_cancellation_during_a_swapped_lock_restores_every_file(
    repo: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    before = snapshot(repo)
    seen: list[str] = []

    async def progress(step: str) -> None:
        seen.append(step)
        if step == "lock vllm":
            # Cancel while the vllm manifest is swapped into place: Ctrl-C lands here.
            asyncio.get_running_loop().call_later(0.05, task.cancel)

    task = asyncio.ensure_future(
        run_upgrade(
            repo,
            parse_request(["transformers==4.57.1"]),
            runtime=Runtime(environ, isolation),
            progress=progress,
        )
    )
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "lock vllm" in seen
    assert_untouched(repo, before)


@pytest.mark.asyncio
async def test_a_killed_swap_is_undone_by_the_next_run(
    repo: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    before = snapshot(repo)
    # What a SIGKILL in the middle of locking the vllm variant leaves behind.
    backup = repo / ".git" / SWAP_DIR
    backup.mkdir()
    (backup / "pyproject.toml").write_bytes(before["pyproject.toml"])
    (backup / "uv.lock").write_bytes(before["uv.lock"])
    (backup / "MANIFEST").write_text("pyproject.toml\t1\nuv.lock\t1")
    (repo / "pyproject.toml").write_bytes(before["pyproject.vllm.toml"])
    (repo / "uv.lock").write_bytes(before["uv.vllm.lock"])
    result = await run_upgrade(
        repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, isolation)
    )
    assert result.outcome == "landed", result
    assert "# SGLang variant" in (repo / "pyproject.toml").read_text()
    assert not backup.exists()


def test_a_lock_that_links_out_of_the_repository_is_refused_never_read(repo: Path) -> None:
    key = repo.parent / "app.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nsecret-key-material\n")
    (repo / "uv.vllm.lock").unlink()
    os.symlink(key, repo / "uv.vllm.lock")
    git(repo, "commit", "-qam", "lock as a link")
    (repo / "upgrade-summary.md").symlink_to(repo.parent / "summary-target")  # git-ignored, also a link out
    before = snapshot(repo)
    done = cli(repo, "transformers==4.57.1")
    assert done.returncode == 2, done.stderr
    assert "uv.vllm.lock: leads outside the repository" in done.stderr
    assert "secret-key-material" not in done.stdout + done.stderr
    assert "upgrade-summary.md: leads outside the repository" in done.stderr
    assert not (repo.parent / "summary-target").exists()
    assert snapshot(repo) == before and key.read_text().endswith("secret-key-material\n")


def test_a_repository_without_commits_is_refused_touching_nothing(tmp_path: Path) -> None:
    made = dual_repo(tmp_path / "made")
    repo = tmp_path / "fresh"
    repo.mkdir()
    for name in ("pyproject.toml", "pyproject.vllm.toml", "uv.lock", "uv.vllm.lock"):
        (repo / name).write_bytes((made / name).read_bytes())
    (repo / "wheelhouse").symlink_to(made / "wheelhouse")
    git(repo, "init", "-q", "-b", "main")
    before = {path.name: path.read_bytes() for path in repo.iterdir() if path.is_file()}
    done = cli(repo, "transformers==4.57.1")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert f"{repo}: the repository has no commits yet" in done.stderr
    assert {path.name: path.read_bytes() for path in repo.iterdir() if path.is_file()} == before
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""


def test_a_subdirectory_given_as_repo_is_refused_naming_the_top_level(repo: Path) -> None:
    (repo / "src").mkdir()
    before = snapshot(repo)
    done = cli(repo / "src", "transformers==4.57.1")
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{repo / 'src'}: inside the git work tree {repo}, not its top level" in done.stderr
    assert_untouched(repo, before)


def test_a_misspelt_package_exits_2_suggesting_the_declared_names(repo: Path) -> None:
    before = snapshot(repo)
    done = cli(repo, "transfomers==4.57.1", "sglang-x==1.0")
    assert done.returncode == 2, done.stdout + done.stderr
    assert (
        "upgrade-deps: nothing to upgrade: transfomers is neither declared nor locked in any variant "
        "(did you mean transformers?); sglang-x is neither declared nor locked in any variant "
        "(did you mean sglang?)"
    ) in done.stderr
    assert_untouched(repo, before)


def test_a_package_no_name_comes_close_to_is_refused_without_a_guess(repo: Path) -> None:
    done = cli(repo, "zzzzzz==1.0")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "nothing to upgrade: zzzzzz is neither declared nor locked in any variant\n" in done.stderr
