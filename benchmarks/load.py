"""Load benchmark: webhook deliveries/s accepted and persisted, with p50/p99 acknowledgement latency.

Runs three servers one after the other on this machine, each for --duration seconds at --rate deliveries/s
(open loop: latency is measured from when a delivery was due, so a server that falls behind shows it):
  bare          an aiohttp handler that only checks the signature and inserts one row (the baseline)
  service       the real `upgrade-deps serve` with its SQLite job store and two workers
  service-busy  the same with Renovate's deliveries for two pull requests of a real local repository,
                so both workers run real jobs (clone, derive, publish) the whole time
The payload is the real pull_request.opened delivery (about 28 KB). Afterwards the persisted
deliveries are counted: every accepted delivery must be exactly one job. The fake GitHub the
workers talk to runs at nice 10, standing in for a GitHub that would not share this machine.
Each line ends with the load average and the share of CPU time the hypervisor took for other
machines during the run (steal): on a virtual machine that share moves the tail latencies most.

    .venv/bin/python benchmarks/load.py [--duration 60] [--rate 1000] [--only service]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.loadgen import Figures, cpu_ticks, figures, load  # noqa: E402
from bot.service.inbox import inbox_path  # noqa: E402
from tests.support.appkeys import key_pair  # noqa: E402
from tests.support.gitrepos import bare_from  # noqa: E402
from tests.support.http import free_port  # noqa: E402
from tests.support.repos import git  # noqa: E402
from tests.support.webhooks import FIXTURES  # noqa: E402

SECRET = "benchmark-secret"


async def wait_ready(url: str, process: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            if process.returncode is not None:
                raise SystemExit(f"{url}: process exited {process.returncode}")
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


async def start(*argv: str, env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    handle = log.open("ab")
    return await asyncio.create_subprocess_exec(*argv, cwd=ROOT, env=env, stdout=handle, stderr=handle)


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


def count(db: Path, prefix: str, table: str = "jobs") -> int:
    with sqlite3.connect(db) as conn:
        query = f"SELECT COUNT(*) FROM {table} WHERE delivery LIKE ?"  # noqa: S608 - one of our two tables
        row = conn.execute(query, (f"{prefix}-%",)).fetchone()
        return int(row[0])


async def run_bare(work: Path, body: bytes, rate: float, duration: float) -> Figures:
    port, db = free_port(), work / "bare.sqlite3"
    process = await start(
        sys.executable,
        str(ROOT / "benchmarks" / "bare_handler.py"),
        "--port",
        str(port),
        "--db",
        str(db),
        "--secret",
        SECRET,
        env=dict(os.environ),
        log=work / "bare.log",
    )
    try:
        await wait_ready(f"http://127.0.0.1:{port}/healthz", process)
        begin, ticks = time.perf_counter(), cpu_ticks()
        sent, accepted, latencies = await load(
            f"http://127.0.0.1:{port}/webhook",
            [body],
            secret=SECRET,
            prefix="bare",
            rate=rate,
            duration=duration,
        )
        elapsed = time.perf_counter() - begin
    finally:
        await stop(process)
    return figures("bare", sent, accepted, latencies, elapsed, count(db, "bare"), ticks)


async def run_service(
    work: Path, name: str, bodies: list[bytes], rate: float, duration: float, fake_args: list[str]
) -> Figures:
    private, public = key_pair()
    (work / "public.pem").write_text(public)
    fake_port, port, db = free_port(), free_port(), work / f"{name}.sqlite3"
    # The fake stands in for GitHub, which would not share this machine: it yields the CPU.
    fake = await start(
        "nice",
        "-n",
        "10",
        sys.executable,
        "-m",
        "tests.fakegithub",
        "--port",
        str(fake_port),
        "--public-key",
        str(work / "public.pem"),
        *fake_args,
        env=dict(os.environ),
        log=work / "fake.log",
    )
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(work),
        "GITHUB_APP_ID": "4242",
        "GITHUB_PRIVATE_KEY": private,
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "GITHUB_API_URL": f"http://127.0.0.1:{fake_port}",
        "UPGRADE_DEPS_DB": str(db),
        "UPGRADE_DEPS_WORKERS": "2",
    }
    server = None
    try:
        await asyncio.sleep(1.0)
        server = await start(
            sys.executable, "-m", "bot.cli", "serve", "--port", str(port), env=env, log=work / f"{name}.log"
        )
        await wait_ready(f"http://127.0.0.1:{port}/healthz", server)
        begin, ticks = time.perf_counter(), cpu_ticks()
        sent, accepted, latencies = await load(
            f"http://127.0.0.1:{port}/webhook",
            bodies,
            secret=SECRET,
            prefix=name,
            rate=rate,
            duration=duration,
        )
        elapsed = time.perf_counter() - begin
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/healthz") as response,
        ):
            health = await response.json()
        print(f"  ({name}: {health['locked_retries']} writes found the database locked and were retried)")
        with sqlite3.connect(db) as conn:
            states = dict(conn.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())
        print(f"  ({name}: jobs by state when the load stopped: {states})", flush=True)
    finally:
        if server is not None:
            await stop(server)
        await stop(fake)
    # Persisted deliveries are in the server's inbox; the workers take them in as jobs (same ids).
    return figures(name, sent, accepted, latencies, elapsed, count(inbox_path(db), name, "deliveries"), ticks)


def busy_payload(work: Path, pulls: int = 2) -> tuple[list[bytes], list[str]]:
    """The pull_request.opened payload as Renovate opening `pulls` PRs on a real local repository.

    One PR per worker: jobs of one PR run one at a time, so this keeps every worker busy.
    """
    _, bare = bare_from(work, "busy")
    head_sha = git(bare, "rev-parse", "main").strip()
    bodies, args = [], []
    for index in range(pulls):
        branch = f"renovate/torch-{index}"
        git(bare, "branch", branch, "main")
        data: dict[str, Any] = json.loads((FIXTURES / "pull_request.opened.json").read_text())
        data["repository"].update(clone_url=bare.as_uri(), default_branch="main")
        pull = data["pull_request"]
        pull["number"] = data["number"] = 100 + index
        pull["user"].update(login="renovate[bot]", type="Bot")
        pull["head"].update(ref=branch, sha=head_sha)
        pull["head"]["repo"].update(clone_url=bare.as_uri())
        pull["base"].update(ref="main", sha=head_sha)
        name = data["repository"]["full_name"]
        bodies.append(json.dumps(data).encode())
        args += ["--pull", f"{name}#{100 + index}={branch}:main:renovate[bot]"]
    return bodies, ["--repo", f"{name}={bare}", *args]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--only", choices=("bare", "service", "service-busy"))
    args = parser.parse_args()
    body = (FIXTURES / "pull_request.opened.json").read_bytes()
    print(
        f"payload {len(body)} bytes; {args.rate:.0f} deliveries/s for {args.duration:.0f} s each; "
        f"{os.cpu_count()} CPUs",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="upgrade-deps-bench-") as tmp:
        work = Path(tmp)
        results = []
        if args.only in (None, "bare"):
            results.append(await run_bare(work, body, args.rate, args.duration))
            print(results[-1].line(), flush=True)
        if args.only in (None, "service"):
            results.append(await run_service(work, "service", [body], args.rate, args.duration, []))
            print(results[-1].line(), flush=True)
        if args.only in (None, "service-busy"):
            busy, fake_args = busy_payload(work)
            results.append(await run_service(work, "service-busy", busy, args.rate, args.duration, fake_args))
            print(results[-1].line(), flush=True)
    print("\nsummary:")
    for result in results:
        print(result.line())


if __name__ == "__main__":
    asyncio.run(main())
