"""Builds uv workspaces and monorepos of separately locked projects over a local wheelhouse, for tests."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support.repos import STACK, git, lock, uv_binary, uv_env
from tests.support.wheels import build_wheelhouse

BUILD = '\n[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'


def member(name: str, dependencies: Sequence[str], tail: str = "") -> str:
    """A workspace member's or a subproject's manifest, with a comment and odd spacing to keep."""
    listed = "".join(f'    "{item}",  # {name} needs it\n' for item in dependencies)
    return (
        f'# member {name}\n[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        f"dependencies = [\n{listed}]\n{BUILD}{tail}"
    )


def _offline(depth: int) -> str:
    return f'\n[tool.uv]\nno-index = true\nfind-links = ["{"../" * depth}wheelhouse"]\n'


ROOT_HEAD = '[project]\nname = "ws-root"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
WORKSPACE = """
[tool.uv.sources]
ws-a = { workspace = true }

[tool.uv.workspace]
members = ["packages/*"]
exclude = ["packages/scratch"]
"""


def workspace_files() -> dict[str, str]:
    """A three-member workspace: `a` and `b` pin transformers exactly, `c` by a range; `a` needs `b`
    through a workspace source, the root needs `a`; `packages/scratch` is excluded."""
    return {
        "pyproject.toml": ROOT_HEAD + 'dependencies = ["ws-a", "peft>=0.17.0"]\n' + WORKSPACE + _offline(0),
        "packages/a/pyproject.toml": member(
            "ws-a", ["transformers==4.56.0", "ws-b"], "\n[tool.uv.sources]\nws-b = { workspace = true }\n"
        ),
        "packages/b/pyproject.toml": member("ws-b", ["transformers==4.56.0", "torch==2.9.1"]),
        "packages/c/pyproject.toml": member("ws-c", ["transformers>=4.56"]),
        "packages/scratch/pyproject.toml": member("scratch", ["transformers==4.56.0"]),
    }


def gpu_workspace_files() -> dict[str, str]:
    """A workspace whose root also has a `pyproject.gpu.toml` variant of itself (another torch)."""
    files = workspace_files()
    files["packages/b/pyproject.toml"] = member("ws-b", ["transformers==4.56.0"])
    files["packages/c/pyproject.toml"] = member("ws-c", ["transformers==4.56.0"])
    head = 'dependencies = ["ws-a", "peft>=0.17.0", "torch==2.9.1"]\n'
    files["pyproject.toml"] = ROOT_HEAD + head + WORKSPACE + _offline(0)
    files["pyproject.gpu.toml"] = "# GPU variant\n" + files["pyproject.toml"].replace("2.9.1", "2.10.0")
    return files


def monorepo_files() -> dict[str, str]:
    """SAGE's layout: independent projects under packages/, each with its own lock; sage-apps needs
    sage-kernel by relative path; sage-docs has no lock of its own (no unit)."""
    path = '\n[tool.uv.sources]\nsage-kernel = { path = "../sage-kernel" }\n'
    return {
        "packages/sage-kernel/pyproject.toml": member("sage-kernel", ["transformers==4.56.0"], _offline(2)),
        "packages/sage-apps/pyproject.toml": member(
            "sage-apps", ["sage-kernel", "peft>=0.17.0"], path + _offline(2)
        ),
        "packages/sage-tools/pyproject.toml": member("sage-tools", ["transformers==4.56.0"], _offline(2)),
        "packages/sage-docs/pyproject.toml": member("sage-docs", ["transformers==4.56.0"], _offline(2)),
    }


def lock_in(repo: Path, folder: str) -> None:
    subprocess.run([uv_binary(), "lock", "-q"], cwd=repo / folder, env=uv_env(), check=True)


def build(root: Path, files: Mapping[str, str], *, folders: Sequence[str] = (".",),
          variants: Sequence[tuple[str, str]] = ()) -> Path:  # fmt: skip
    """A committed repository with `files`, a wheelhouse, each folder locked and each root variant."""
    repo = root / "repo"
    repo.mkdir(parents=True)
    build_wheelhouse(STACK, repo / "wheelhouse")
    for relative, text in files.items():
        (repo / relative).parent.mkdir(parents=True, exist_ok=True)
        (repo / relative).write_text(text, encoding="utf-8")
    (repo / ".gitignore").write_text("upgrade-summary.md\n", encoding="utf-8")
    for folder in folders:
        lock_in(repo, folder)
    for manifest, lock_file in variants:
        lock(repo, manifest, lock_file)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    return repo


def check_lock(
    repo: Path, folder: str = ".", *, manifest: str = "pyproject.toml", lock_file: str = "uv.lock"
) -> None:
    """`uv lock --check` on one unit: fails unless the lock is what uv makes of the manifests now."""
    where = repo / folder
    if manifest == "pyproject.toml":
        subprocess.run([uv_binary(), "lock", "--check", "-q"], cwd=where, env=uv_env(), check=True)
        return
    saved, saved_lock = (where / "pyproject.toml").read_bytes(), (where / "uv.lock").read_bytes()
    shutil.copyfile(where / manifest, where / "pyproject.toml")
    shutil.copyfile(where / lock_file, where / "uv.lock")
    try:
        subprocess.run([uv_binary(), "lock", "--check", "-q"], cwd=where, env=uv_env(), check=True)
    finally:
        (where / "pyproject.toml").write_bytes(saved)
        (where / "uv.lock").write_bytes(saved_lock)
