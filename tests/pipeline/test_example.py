"""The bundled example upgrades cleanly through the real command, as the README's first command does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.repos import copy_example, git


def run(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--repo", str(repo), *args],
        capture_output=True, text=True, env={**os.environ}, timeout=120,
    )  # fmt: skip


def test_the_example_upgrade_lands_and_prints_the_summary(project_root: Path, tmp_path: Path) -> None:
    repo = copy_example(project_root, tmp_path / "example")
    done = run(repo, "sglang==0.5.10", "transformers==4.57.1")
    assert done.returncode == 0, done.stdout + done.stderr  # landed: the one breaking call site is fixed
    assert "| `sglang` | `0.5.9` | `0.5.10` | sglang |" in done.stdout
    assert "| `transformers` | `4.56.0` | `4.57.1` | sglang, vllm |" in done.stdout
    assert "| `numpy` (transitive) | `2.2.6` | `2.3.5` | sglang, vllm |" in done.stdout
    assert (repo / "upgrade-summary.md").read_text() in done.stdout
    assert "- [src/app/engine.py:5] keyword `tp_size=` → `tensor_parallel_size=`" in done.stdout
    assert (
        "| removed the fallback branch for `ServerArgs` | `src/app/_compat.py`:5 | `<= 0.5.8` |"
        in done.stdout
    )
    shim = (repo / "src/app/_compat.py").read_text().splitlines()
    assert shim[1:4] == ["", "from sglang.srt.server_args import ServerArgs", ""]
    assert "- Removed 1 stale entry: `src/app/old_tokenizer.py`" in done.stdout
    assert git(repo, "log", "--format=%s", "-n", "5").splitlines() == [
        "sglang: follow API moves in 0.5.10",
        "sglang: prune compat for 0.5.10",
        "Re-lock sglang, vllm after the upgrade",
        "Pin sglang 0.5.10, transformers 4.57.1",
        "Update API checklists of transformers to the code's real imports",
    ]


def test_no_fix_leaves_the_findings_to_a_person(project_root: Path, tmp_path: Path) -> None:
    repo = copy_example(project_root, tmp_path / "example")
    done = run(repo, "--no-fix", "sglang==0.5.10")
    assert done.returncode == 3, done.stdout + done.stderr  # landed, with a breaking call site
    assert (
        "- [src/app/engine.py:5] error: `sglang.srt.server_args.ServerArgs` no longer accepts the keyword "
        "`tp_size` in sglang 0.5.10 (renamed to `tensor_parallel_size`?)." in done.stdout
    )
    assert "Mechanical Fixes" not in done.stdout
    assert "[`src/app/_compat.py`:5] fallback for sglang `<=` 0.5.8 can be removed" in done.stdout
    assert not [s for s in git(repo, "log", "--format=%s").splitlines() if s.startswith("sglang:")]


def test_an_explicit_config_file_replaces_the_repositorys(project_root: Path, tmp_path: Path) -> None:
    repo = copy_example(project_root, tmp_path / "example")
    config = tmp_path / "only-vllm.toml"
    config.write_text('[[variant]]\nname = "vllm"\nmanifest = "pyproject.vllm.toml"\n')
    done = run(repo, "--config", str(config), "transformers==4.57.1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| `transformers` | `4.56.0` | `4.57.1` | vllm |" in done.stdout
    assert git(repo, "diff", "--name-only", "HEAD~2").split() == ["pyproject.vllm.toml", "uv.vllm.lock"]


def test_a_checklist_the_run_creates_is_committed(project_root: Path, tmp_path: Path) -> None:
    repo = copy_example(project_root, tmp_path / "example")
    checklist = ".agents/skills/upgrade-deps/checklists/transformers.md"
    git(repo, "rm", "-q", checklist)
    git(repo, "commit", "-qm", "no transformers checklist yet")
    done = run(repo, "transformers==4.57.1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""  # the summary is ignored
    assert git(repo, "log", "--format=%s", "-n", "3").splitlines() == [
        "Re-lock sglang, vllm after the upgrade",
        "Pin transformers 4.57.1",
        "Update API checklists of transformers to the code's real imports",
    ]
    assert git(repo, "show", "--name-status", "--format=", "HEAD~2").split() == ["A", checklist]


def test_a_commit_git_refuses_leaves_the_repository_as_it_was(project_root: Path, tmp_path: Path) -> None:
    repo = copy_example(project_root, tmp_path / "example")
    head = git(repo, "rev-parse", "HEAD").strip()
    # No identity anywhere, and git told not to guess one: every commit fails.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GIT_", "EMAIL"))}
    env.update(HOME=str(tmp_path / "home"), GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_COUNT="1",
               GIT_CONFIG_KEY_0="user.useConfigOnly", GIT_CONFIG_VALUE_0="true")  # fmt: skip
    env.setdefault("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv"))
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--repo", str(repo), "transformers==4.57.1"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "git could not commit" in done.stderr and "user.email" in done.stderr
    assert git(repo, "rev-parse", "HEAD").strip() == head
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
