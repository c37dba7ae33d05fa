"""Bare remotes for service tests, on top of tests.support.repos: a work tree and its bare clone."""

from __future__ import annotations

from pathlib import Path

from tests.support.repos import copy_example, git

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "dual-backend"


def commit_all(work: Path, message: str) -> str:
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", message)
    return git(work, "rev-parse", "HEAD").strip()


def with_bare(work: Path, tmp: Path, name: str) -> Path:
    """A bare clone of `work` named `name`.git, set as the work tree's origin."""
    bare = tmp / f"{name}.git"
    git(tmp, "clone", "-q", "--bare", str(work), str(bare))
    git(work, "remote", "add", "origin", str(bare))
    git(work, "fetch", "-q", "origin")
    return bare


def bare_from(tmp: Path, name: str, *, fixes: bool = False) -> tuple[Path, Path]:
    """The bundled example committed on main in a work tree, and its bare remote; without `fixes`
    it has no compat shim and its `[fix]` is off, so its one breaking call site stays a finding."""
    work = copy_example(ROOT, tmp / f"{name}-work", fixes=fixes)
    return work, with_bare(work, tmp, name)


def branch_log(bare: Path, branch: str, base: str = "main") -> list[tuple[str, str]]:
    """(author name, subject) of the commits on `branch` that `base` lacks, newest first."""
    out = git(bare, "log", "--format=%an%x09%s", f"{base}..{branch}")
    return [(line.split("\t", 1)[0], line.split("\t", 1)[1]) for line in out.splitlines()]


def show(bare: Path, ref: str, path: str) -> str:
    return git(bare, "show", f"{ref}:{path}")
