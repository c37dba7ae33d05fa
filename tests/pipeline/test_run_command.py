"""`upgrade-deps run` as a user types it: where it runs by default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.repos import dual_repo, git


def run_in(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", *args], cwd=cwd, capture_output=True, text=True,
        env={**os.environ}, timeout=120,
    )  # fmt: skip


def test_run_from_a_subdirectory_upgrades_the_whole_repository(tmp_path: Path) -> None:
    repo = dual_repo(tmp_path)
    (repo / "src" / "app").mkdir(parents=True)
    done = run_in(repo / "src" / "app", "transformers==4.57.1")
    assert done.returncode == 0, done.stdout + done.stderr
    for manifest in ("pyproject.toml", "pyproject.vllm.toml"):
        assert '"transformers==4.57.1",' in (repo / manifest).read_text()
    assert (repo / "upgrade-summary.md").is_file()
    assert not (repo / "src" / "app" / "upgrade-summary.md").exists()
    assert git(repo, "log", "--format=%s", "-n", "2").splitlines() == [
        "Re-lock default, vllm after the upgrade",
        "Pin transformers 4.57.1",
    ]
