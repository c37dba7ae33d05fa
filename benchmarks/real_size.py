"""Benchmark at real size: AReaL's two variants against PyPI, `upgrade-deps run` against bare `uv lock`.

Not in CI: it needs the network (PyPI) and a bare clone of AReaL. Run with
`.venv/bin/python -m benchmarks.real_size --areal PATH/TO/AReaL.git [--rounds 5] [--request peft==0.21.2]`.

The tree is AReaL's HEAD, exported from the clone. This machine reaches PyPI only, so the two sources
that name other hosts are rewritten the way a user of a private index would rewrite them, in both
manifests, and nothing else is changed:
- the `pytorch-cu129` index (`https://download.pytorch.org/whl/cu129`) points at `https://pypi.org/simple`
  (torch, torchaudio and torchvision then resolve to PyPI's builds: `2.9.1`, not `2.9.1+cu129`);
- `mbridge @ git+https://github.com/ISEEKYAN/mbridge.git@310e8fb` becomes `mbridge==0.15.1`, the release
  that commit is (the lock names the same version).
Both variants are then re-locked once (sequentially, the second swapped into place) and committed:
that is the baseline every round starts from, with uv's cache warm.

Each round starts three fresh copies of the baseline, at the same depth, and runs, in an order that
rotates from round to round:
(a) the bare sequential calls a maintainer would type: the pin edits `upgrade-deps` makes (learnt from
    a warm-up run), `uv lock --upgrade-package <request>` for the default variant, then the same for
    the vLLM variant swapped into place as `pyproject.toml`/`uv.lock`, and the swap undone;
(b) the same two `uv lock` calls at the same time, each in its own copy of the tree (not timed: copying);
(c) `upgrade-deps run --no-release-notes <request>`, audit and commits included (release notes are
    looked up on github.com, which this machine does not reach).
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support.repos import git, uv_binary

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = (("pyproject.toml", "uv.lock"), ("pyproject.vllm.toml", "uv.vllm.lock"))
REWRITES = (
    ('url = "https://download.pytorch.org/whl/cu129"', 'url = "https://pypi.org/simple"'),
    ('"mbridge @ git+https://github.com/ISEEKYAN/mbridge.git@310e8fb;', '"mbridge==0.15.1;'),
)


def _env() -> dict[str, str]:
    return {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}


def export(clone: Path, dest: Path) -> Path:
    """AReaL's HEAD as a fresh repository with the rewrites applied and both variants re-locked."""
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "--git-dir", str(clone), "archive", "HEAD"], check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    for manifest, _ in VARIANTS:
        text = (dest / manifest).read_text()
        for old, new in REWRITES:
            if old not in text:
                sys.exit(f"{manifest}: {old!r} not found; the rewrite needs updating for this AReaL")
            text = text.replace(old, new)
        (dest / manifest).write_text(text)
    (dest / ".gitignore").open("a").write("\nupgrade-summary.md\n")
    bare_sequential(dest, [])
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "AReaL with sources this machine reaches")
    return dest


def _uv_lock(cwd: Path, pins: list[str]) -> None:
    argv = [uv_binary(), "lock", "-q", *[arg for pin in pins for arg in ("--upgrade-package", pin)]]
    subprocess.run(argv, cwd=cwd, env=_env(), check=True)


def _swap_in(repo: Path, manifest: str, lock: str) -> tuple[bytes, bytes]:
    saved = ((repo / "pyproject.toml").read_bytes(), (repo / "uv.lock").read_bytes())
    shutil.copyfile(repo / manifest, repo / "pyproject.toml")
    shutil.copyfile(repo / lock, repo / "uv.lock")
    return saved


def _swap_out(repo: Path, lock: str, saved: tuple[bytes, bytes]) -> None:
    shutil.copyfile(repo / "uv.lock", repo / lock)
    (repo / "pyproject.toml").write_bytes(saved[0])
    (repo / "uv.lock").write_bytes(saved[1])


def bare_sequential(repo: Path, pins: list[str]) -> float:
    """(a): the default variant, then the vLLM one swapped into place, one after the other."""
    start = time.perf_counter()
    _uv_lock(repo, pins)
    manifest, lock = VARIANTS[1]
    saved = _swap_in(repo, manifest, lock)
    try:
        _uv_lock(repo, pins)
    finally:
        _swap_out(repo, lock, saved)
    return time.perf_counter() - start


def bare_parallel(repo: Path, copy: Path, pins: list[str]) -> float:
    """(b): the two calls at the same time, the vLLM variant in its own copy of the tree."""
    manifest, lock = VARIANTS[1]
    _swap_in(copy, manifest, lock)
    start = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        for done in [pool.submit(_uv_lock, repo, pins), pool.submit(_uv_lock, copy, pins)]:
            done.result()
    return time.perf_counter() - start


def pipeline(repo: Path, request: str) -> tuple[float, float, str]:
    """(c): the whole run; returns its wall time, its start-up (until the first `lock` line, when uv
    starts) and the steps it printed, each with the second it was printed at."""
    argv = [str(ROOT / ".venv" / "bin" / "upgrade-deps"), "run", "--repo", str(repo), "--no-release-notes"]
    start = time.perf_counter()
    lines, startup = [], 0.0
    with subprocess.Popen([*argv, request], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=_env()) as child:  # fmt: skip
        assert child.stderr is not None and child.stdout is not None
        for line in child.stderr:
            at = time.perf_counter() - start
            if not startup and line.startswith("upgrade-deps: lock"):
                startup = at
            lines.append(f"{at:6.2f} {line.rstrip()}")
        out = child.stdout.read()
    seconds = time.perf_counter() - start
    if child.returncode not in (0, 3):  # 3: landed, with something to look at
        sys.exit(f"upgrade-deps run failed ({child.returncode}):\n" + "\n".join(lines) + out[-3000:])
    return seconds, startup, "\n".join(lines)


def fresh(template: Path, where: Path) -> Path:
    """A copy of the baseline at the template's depth (so `../` paths and siblings stay alike)."""
    if where.exists():
        shutil.rmtree(where)
    shutil.copytree(template, where, symlinks=True)
    return where


def _pin_edits(template: Path, work: Path, request: str) -> dict[str, bytes]:
    """What `upgrade-deps run` writes into the manifests (a warm-up run, uv's cache warmed with it)."""
    repo = fresh(template, work / "warmup" / "areal")
    seconds, _, steps = pipeline(repo, request)
    print(f"warm-up run {seconds:.1f} s:\n{steps}", flush=True)
    return {manifest: (repo / manifest).read_bytes() for manifest, _ in VARIANTS}


def _spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} s (min {min(values):.2f}, max {max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areal", type=Path, required=True, help="a bare clone of AReaL")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--request", default="peft==0.21.2")
    args = parser.parse_args()
    pins = [args.request]
    with tempfile.TemporaryDirectory(prefix="real-size-") as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        template = export(args.areal, work / "template" / "areal")
        lock_text = (template / "uv.lock").read_text()
        packages = lock_text.count("\n[[package]]\n")
        sizes = ", ".join(f"{(template / lock).stat().st_size // 1024} KB" for _, lock in VARIANTS)
        print(f"baseline: {packages} locked packages, locks of {sizes}, {time.perf_counter() - start:.1f} s")
        edits = _pin_edits(template, work, args.request)
        figures: dict[str, list[float]] = {"a": [], "b": [], "c": [], "startup": []}
        for index in range(args.rounds):
            order = "abc"[index % 3 :] + "abc"[: index % 3]
            for kind in order:
                repo = fresh(template, work / kind / "areal")
                if kind == "c":
                    seconds, startup, steps = pipeline(repo, args.request)
                    figures["startup"].append(startup)
                else:
                    for manifest, data in edits.items():
                        (repo / manifest).write_bytes(data)
                    if kind == "a":
                        seconds = bare_sequential(repo, pins)
                    else:
                        copy = fresh(repo, work / kind / ".areal.copy")
                        seconds = bare_parallel(repo, copy, pins)
                figures[kind].append(seconds)
            a, b, c = (figures[k][-1] for k in "abc")
            print(f"round {index + 1} ({order}): a {a:.2f} s, b {b:.2f} s, c {c:.2f} s; "
                  f"c/a {c / a:.2f}, c/b {c / b:.2f}", flush=True)  # fmt: skip
        print(f"last run's steps:\n{steps}")
        report(figures, packages)


def report(figures: dict[str, list[float]], packages: int) -> None:
    a, b, c = (figures[k] for k in "abc")
    over_a = [x / y for x, y in zip(c, a, strict=True)]
    over_b = [x / y for x, y in zip(c, b, strict=True)]
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, load {os.getloadavg()[0]:.1f}")
    print(f"AReaL, {packages} packages, 2 variants, {len(a)} rounds:")
    print(f"  (a) bare sequential uv lock: {_spread(a)}")
    print(f"  (b) bare parallel uv lock:   {_spread(b)}")
    print(f"  (c) upgrade-deps run:        {_spread(c)}")
    print(f"  start-up of (c), until uv starts: {_spread(figures['startup'])}")
    print(f"  c/a median {statistics.median(over_a):.2f} (min {min(over_a):.2f}, max {max(over_a):.2f}); "
          f"goal <= 1.0 holds in {sum(r <= 1.0 for r in over_a)} of {len(a)} rounds")  # fmt: skip
    print(f"  c/b median {statistics.median(over_b):.2f} (min {min(over_b):.2f}, max {max(over_b):.2f}); "
          f"goal <= 1.15 holds in {sum(r <= 1.15 for r in over_b)} of {len(b)} rounds")  # fmt: skip


if __name__ == "__main__":
    main()
