"""Builds real git repositories with uv-locked variants over a local wheelhouse, for tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support.wheels import WheelSpec, build_wheelhouse

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Maintainer",
    "GIT_AUTHOR_EMAIL": "maintainer@example.invalid",
    "GIT_COMMITTER_NAME": "Test Maintainer",
    "GIT_COMMITTER_EMAIL": "maintainer@example.invalid",
}

# A small AReaL-shaped stack: two inference backends with different torch versions.
STACK = [
    WheelSpec("torch", "2.9.1"),
    WheelSpec("torch", "2.10.0"),
    WheelSpec("numpy", "2.2.6"),
    WheelSpec("numpy", "2.3.5"),
    WheelSpec("transformers", "4.56.0", ["numpy>=2,<2.3"]),
    WheelSpec("transformers", "4.57.1", ["numpy>=2.3"]),
    WheelSpec("peft", "0.17.0", ["transformers>=4.50"]),
    WheelSpec("sglang", "0.5.9", ["torch==2.9.1", "transformers>=4.56"]),
    WheelSpec("sglang", "0.5.10", ["torch==2.9.1", "transformers>=4.57"]),
    WheelSpec("vllm", "0.11.0", ["torch==2.10.0", "transformers>=4.56"]),
    WheelSpec("vllm", "0.11.1", ["torch==2.10.0", "transformers>=4.57"]),
    # Two upstream packages that can never agree on numpy once transformers moves.
    WheelSpec("legacy-kernels", "1.0", ["numpy<2.3"]),
]

SGLANG_MANIFEST = """\
# SGLang variant
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
    "torch==2.9.1",   # sglang's torch
    "transformers==4.56.0",
    "peft>=0.17.0",
]

[project.optional-dependencies]
sglang = ["sglang==0.5.9"]

[tool.uv]
no-index = true
find-links = ["wheelhouse"]
"""

VLLM_MANIFEST = """\
# vLLM variant
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
    "torch==2.10.0",
    "transformers==4.56.0",
    "peft>=0.17.0",
]

[project.optional-dependencies]
vllm = ["vllm==0.11.0"]

[tool.uv]
no-index = true
find-links = ["wheelhouse"]
"""


def uv_binary() -> str:
    from uv import find_uv_bin

    return str(find_uv_bin())


def uv_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME")}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    return env


def lock(repo: Path, manifest: str = "pyproject.toml", lock_file: str = "uv.lock") -> None:
    """Lock one manifest with the real uv, swapping it into place by hand when it is not the default."""
    if manifest == "pyproject.toml":
        subprocess.run([uv_binary(), "lock", "-q"], cwd=repo, env=uv_env(), check=True)
        if lock_file != "uv.lock":
            shutil.move(repo / "uv.lock", repo / lock_file)
        return
    saved = (repo / "pyproject.toml").read_bytes()
    saved_lock = (repo / "uv.lock").read_bytes() if (repo / "uv.lock").exists() else None
    shutil.copyfile(repo / manifest, repo / "pyproject.toml")
    (repo / "uv.lock").unlink(missing_ok=True)
    try:
        subprocess.run([uv_binary(), "lock", "-q"], cwd=repo, env=uv_env(), check=True)
        shutil.move(repo / "uv.lock", repo / lock_file)
    finally:
        (repo / "pyproject.toml").write_bytes(saved)
        if saved_lock is not None:
            (repo / "uv.lock").write_bytes(saved_lock)


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True)
    return done.stdout


def make_repo(
    root: Path,
    files: Mapping[str, str],
    *,
    variants: Sequence[tuple[str, str]] = (("pyproject.toml", "uv.lock"),),
    wheels: Sequence[WheelSpec] = STACK,
) -> Path:
    """A committed git repository with `files`, a wheelhouse and every variant locked."""
    repo = root / "repo"
    repo.mkdir(parents=True)
    build_wheelhouse(wheels, repo / "wheelhouse")
    for relative, text in files.items():
        (repo / relative).parent.mkdir(parents=True, exist_ok=True)
        (repo / relative).write_text(text, encoding="utf-8")
    (repo / ".gitignore").write_text("upgrade-summary.md\n", encoding="utf-8")
    for manifest, lock_file in variants:
        lock(repo, manifest, lock_file)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    return repo


def dual_repo(root: Path, **overrides: str) -> Path:
    """The two-variant repository most tests start from; `overrides` replace or add files."""
    files = {"pyproject.toml": SGLANG_MANIFEST, "pyproject.vllm.toml": VLLM_MANIFEST, **overrides}
    return make_repo(
        root, files, variants=(("pyproject.toml", "uv.lock"), ("pyproject.vllm.toml", "uv.vllm.lock"))
    )


def snapshot(repo: Path) -> dict[str, bytes]:
    """Every tracked file's bytes, to prove a refused run changed nothing."""
    names = git(repo, "ls-files").splitlines()
    return {name: (repo / name).read_bytes() for name in names}


SHIM_CONFIG = "\n# Step 10:"  # where the example's config starts its compat shim
SHIM_ROW = "| `src/app/_compat.py` | `ServerArgs` |\n"


def _findings_only(dest: Path) -> None:
    """The example without its compat shim and with `[fix]` off: the service tests follow its one
    breaking call site through check runs, annotations and reviews, which a fix would remove."""
    settings = dest / ".github" / "upgrade-deps.toml"
    text = settings.read_text(encoding="utf-8")
    assert SHIM_CONFIG in text  # the example's layout this relies on
    settings.write_text(text[: text.index(SHIM_CONFIG)] + "\n[fix]\napi = false\n", encoding="utf-8")
    checklist = dest / ".agents/skills/upgrade-deps/checklists/sglang.md"
    checklist.write_text(checklist.read_text(encoding="utf-8").replace(SHIM_ROW, ""), encoding="utf-8")
    (dest / "src/app/_compat.py").unlink()
    shutil.rmtree(dest / "tests")


def copy_example(project_root: Path, dest: Path, *, fixes: bool = True) -> Path:
    """A committed copy of the bundled example repository at `dest` (without `fixes`: findings only)."""
    shutil.copytree(project_root / "examples" / "dual-backend", dest)
    if not fixes:
        _findings_only(dest)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "example")
    return dest
