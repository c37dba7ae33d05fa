"""Benchmark: `upgrade-deps run` wall time against the bare `uv lock` calls it makes.

Two repositories: the bundled example and a generated one with 200+ locked packages in two
variants. Each measurement starts from a fresh copy; the median of several rounds is printed.
Run with `.venv/bin/python -m benchmarks.pipeline [--rounds N]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from benchmarks.mirror import build_mirror
from tests.support.repos import copy_example, make_repo, uv_binary, uv_env
from tests.support.wheels import WheelSpec

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = 220


def large_stack() -> list[WheelSpec]:
    """220 packages in layers, each depending on two of the previous layer; `core` at the bottom."""
    specs = [WheelSpec("core", "1.0"), WheelSpec("core", "2.0")]
    names = []
    for index in range(PACKAGES):
        deps = ["core>=1"] if index < 20 else [f"pkg{index - 20:03d}", f"pkg{index - 13:03d}"]
        names.append(f"pkg{index:03d}")
        specs.append(WheelSpec(f"pkg{index:03d}", "1.0", deps))
    specs += [WheelSpec("top", "1.0", ["pkg219", "core>=1"]), WheelSpec("top", "1.1", ["pkg219", "core>=2"])]
    return specs


def _large_manifests(source: str) -> dict[str, str]:
    deps = "\n".join(f'    "pkg{i:03d}",' for i in range(200, 220))
    manifest = f"""\
[project]
name = "large"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
    "top==1.0",
{deps}
]

{source}"""
    return {
        "pyproject.toml": manifest,
        "pyproject.alt.toml": manifest.replace('"top==1.0",', '"top==1.0",\n    "pkg150",'),
    }


LARGE_VARIANTS = (("pyproject.toml", "uv.lock"), ("pyproject.alt.toml", "uv.alt.lock"))


def large_repo(root: Path) -> Path:
    """The generated repository resolving against a flat local wheelhouse: uv's least work."""
    files = _large_manifests('[tool.uv]\nno-index = true\nfind-links = ["wheelhouse"]\n')
    return make_repo(root, files, variants=LARGE_VARIANTS, wheels=large_stack())


def _releases(spec: WheelSpec) -> list[WheelSpec]:
    """Six releases of each pkg; core and top keep theirs (the request moves top 1.0 -> 1.1)."""
    if not spec.name.startswith("pkg"):
        return [spec]
    return [replace(spec, version=f"{spec.version}.{patch}") for patch in range(6)]


def large_mirror_repo(root: Path) -> Path:
    """The same graph against a mirror: six versions of each package, sdists, binary wheels."""
    specs = [release for spec in large_stack() for release in _releases(spec)]
    binary = frozenset(f"pkg{i:03d}" for i in range(0, PACKAGES, 4))
    url = build_mirror(specs, root / "mirror", binary=binary)
    source = f'[[tool.uv.index]]\nname = "mirror"\nurl = "{url}"\ndefault = true\n'
    return make_repo(root, _large_manifests(source), variants=LARGE_VARIANTS, wheels=())


def example_repo(root: Path) -> Path:
    return copy_example(ROOT, root / "repo")


def bare_uv(
    repo: Path, variants: list[tuple[str, str]], pins: list[str], edit: Callable[[Path], None]
) -> float:
    """The uv calls alone: edit the pins (not timed), then time one `uv lock` per variant."""
    edit(repo)
    argv = [uv_binary(), "lock", "-q", *[arg for pin in pins for arg in ("--upgrade-package", pin)]]
    total = 0.0
    for manifest, lock_file in variants:
        if manifest != "pyproject.toml":
            shutil.copyfile(repo / manifest, repo / "pyproject.toml")
            shutil.copyfile(repo / lock_file, repo / "uv.lock")
        start = time.perf_counter()
        subprocess.run(argv, cwd=repo, env=uv_env(), check=True)
        total += time.perf_counter() - start
    return total


def pipeline(repo: Path, args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "upgrade-deps"), "run", "--repo", str(repo), *args],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ},
    )  # fmt: skip
    return time.perf_counter() - start


def measure(name: str, build: Callable[[Path], Path], variants: list[tuple[str, str]], args: list[str],
            edit: Callable[[Path], None], rounds: int) -> None:  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        template = build(Path(tmp))
        bare, ours = [], []
        for index in range(rounds):
            for kind, sink in (("bare", bare), ("ours", ours)):
                copy = Path(tmp) / f"{kind}{index}"
                shutil.copytree(template, copy)
                if kind == "bare":
                    sink.append(bare_uv(copy, variants, [a for a in args if "==" in a], edit))
                else:
                    sink.append(pipeline(copy, args))
        lock_text = (template / "uv.lock").read_text()
        packages = sum(1 for line in lock_text.splitlines() if line == "[[package]]")
        b, o = statistics.median(bare), statistics.median(ours)
        print(
            f"{name}: {packages} locked packages ({len(lock_text) // 1024} KB lock), "
            f"{len(variants)} variants; bare uv lock {b:.3f} s, upgrade-deps run {o:.3f} s, "
            f"ratio {o / b:.2f}x, overhead {o - b:+.3f} s (median of {rounds})"
        )


def replace_in(files: list[str], old: str, new: str) -> Callable[[Path], None]:
    def edit(repo: Path) -> None:
        for name in files:
            path = repo / name
            path.write_text(path.read_text().replace(old, new))

    return edit


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    os.environ.setdefault("GIT_AUTHOR_NAME", "bench")
    os.environ.setdefault("GIT_AUTHOR_EMAIL", "bench@example.invalid")
    os.environ.setdefault("GIT_COMMITTER_NAME", "bench")
    os.environ.setdefault("GIT_COMMITTER_EMAIL", "bench@example.invalid")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    example_variants = [("pyproject.toml", "uv.lock"), ("pyproject.vllm.toml", "uv.vllm.lock")]
    measure(
        "example", example_repo, example_variants, ["transformers==4.57.1"],
        replace_in(["pyproject.toml", "pyproject.vllm.toml"], "transformers==4.56.0", "transformers==4.57.1"),
        rounds,
    )  # fmt: skip
    bump_top = replace_in(["pyproject.toml", "pyproject.alt.toml"], "top==1.0", "top==1.1")
    measure("large", large_repo, list(LARGE_VARIANTS), ["top==1.1"], bump_top, rounds)
    measure("large, mirror", large_mirror_repo, list(LARGE_VARIANTS), ["top==1.1"], bump_top, rounds)


if __name__ == "__main__":
    main()
