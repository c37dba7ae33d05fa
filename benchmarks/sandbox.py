"""Benchmark: what the sandbox adds to each uv call (and to a no-op command), median of N rounds.

`uv lock` on the bundled example with a warm cache, bare and under bubblewrap, alternating so the
machine's load falls on both alike. Run with `.venv/bin/python -m benchmarks.sandbox [--rounds N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bot.tools.isolation import Isolation
from bot.tools.isolation_host import open_isolation
from bot.tools.proc import child_env, run
from bot.tools.uv import uv_binary

ROOT = Path(__file__).resolve().parent.parent


async def _timed(argv: Sequence[str], *, cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = await run(argv, cwd=cwd, env=env, timeout=120)
    assert done.returncode == 0, done.output
    return time.perf_counter() - started


async def _pair(
    isolation: Isolation, argv: Sequence[str], repo: Path, env: dict[str, str]
) -> tuple[float, float]:
    bare = await _timed(argv, cwd=repo, env=env)
    launch = isolation.launch(argv, cwd=repo, env=env, writable=[repo])
    return bare, await _timed(launch.argv, cwd=repo, env=launch.env)


async def main(rounds: int) -> None:
    environ = dict(os.environ)
    isolation = await open_isolation(environ, policy="require", protected=[Path.home()])
    env = {**child_env(environ), "UV_CACHE_DIR": str(isolation.host.cache)}
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        shutil.copytree(ROOT / "examples" / "dual-backend", repo)
        lock = [uv_binary(), "lock", "--no-progress"]
        await _timed(lock, cwd=repo, env=env)  # warm the cache
        for name, argv in (("true", ["true"]), ("uv lock (example, warm cache)", lock)):
            pairs = [await _pair(isolation, argv, repo, env) for _ in range(rounds)]
            bare = statistics.median(p[0] for p in pairs)
            boxed = statistics.median(p[1] for p in pairs)
            added = statistics.median(p[1] - p[0] for p in pairs)
            print(f"{name}: bare {bare * 1000:.1f} ms, sandboxed {boxed * 1000:.1f} ms, "
                  f"added {added * 1000:+.1f} ms (median of {rounds})")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=21)
    asyncio.run(main(parser.parse_args().rounds))
