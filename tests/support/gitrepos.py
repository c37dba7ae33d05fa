"""Real git repositories for tests: a work tree committed and pushed to a bare remote."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "dual-backend"
ENV = {"GIT_AUTHOR_NAME": "tester", "GIT_AUTHOR_EMAIL": "tester@example.invalid",
       "GIT_COMMITTER_NAME": "tester", "GIT_COMMITTER_EMAIL": "tester@example.invalid"}  # fmt: skip


def git(cwd: Path, *args: str) -> str:
    import os

    env = {**os.environ, **ENV}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def commit_all(work: Path, message: str) -> str:
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", message)
    return git(work, "rev-parse", "HEAD").strip()


def bare_from(source: Path, tmp: Path, name: str) -> tuple[Path, Path]:
    """A work tree copied from `source` with one commit on main, and its bare remote `name`.git."""
    work = tmp / f"{name}-work"
    shutil.copytree(source, work, ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    git(work, "init", "-q", "-b", "main")
    commit_all(work, "initial")
    bare = tmp / f"{name}.git"
    git(tmp, "clone", "-q", "--bare", str(work), str(bare))
    git(work, "remote", "add", "origin", str(bare))
    git(work, "fetch", "-q", "origin")
    return work, bare


def branch_log(bare: Path, branch: str, base: str = "main") -> list[tuple[str, str]]:
    """(author name, subject) of the commits on `branch` that `base` lacks, newest first."""
    out = git(bare, "log", "--format=%an%x09%s", f"{base}..{branch}")
    return [tuple(line.split("\t", 1)) for line in out.splitlines()]  # type: ignore[misc]


def show(bare: Path, ref: str, path: str) -> str:
    return git(bare, "show", f"{ref}:{path}")
