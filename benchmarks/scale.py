"""Scale-out benchmarks on PostgreSQL: webhook intake of a `serve` replica, and job throughput by workers.

intake      the real `upgrade-deps serve --workers 0` on a throwaway PostgreSQL cluster on this
            machine, sent the real pull_request.opened delivery (about 28 KB) at --rate deliveries/s
            for --duration seconds (open loop, benchmarks/loadgen.py); p50/p99, and every accepted
            delivery counted as one job in the database afterwards
throughput  --jobs jobs of a fixed CPU cost (--cost seconds of hashing, calibrated once), each of its
            own pull request, claimed from the PostgreSQL job store by 1, 2 and 4 worker processes
            (the real WorkerPool and PgJobStore, one job at a time each); jobs/s and the share of
            linear scaling up to the cores this machine has

  .venv/bin/python -m benchmarks.scale [--only intake|throughput] [--rate 1000] [--duration 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.load import SECRET, start, stop, wait_ready  # noqa: E402
from benchmarks.loadgen import Figures, cpu_ticks, figures, load, process_cpu  # noqa: E402
from bot.service.inbox import NewJob  # noqa: E402
from bot.service.jobs import Job  # noqa: E402
from bot.service.pgconn import Database  # noqa: E402
from bot.service.pgintake import insert  # noqa: E402
from bot.service.pgjobs import PgJobStore  # noqa: E402
from bot.service.pgschema import migrate  # noqa: E402
from bot.service.worker import WorkerPool  # noqa: E402
from tests.support.appkeys import key_pair  # noqa: E402
from tests.support.http import free_port  # noqa: E402
from tests.support.postgres import Cluster, running_cluster  # noqa: E402
from tests.support.webhooks import FIXTURES  # noqa: E402


def jobs_in(url: str, prefix: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT COUNT(*) FROM jobs WHERE delivery LIKE %s", (f"{prefix}-%",)).fetchone()
    return int(row[0]) if row else 0


async def intake(cluster: Cluster, work: Path, rate: float, duration: float) -> tuple[Figures, str]:
    """The run's figures, and the CPU each side spent per accepted delivery."""
    url = cluster.create_database()
    migrate(Database(url), at_start=True)
    private, public = key_pair()
    (work / "public.pem").write_text(public)
    fake_port, port = free_port(), free_port()
    fake_argv = ["nice", "-n", "10", sys.executable, "-m", "tests.fakegithub", "--port", str(fake_port),
                 "--public-key", str(work / "public.pem")]  # fmt: skip
    fake = await start(*fake_argv, env=dict(os.environ), log=work / "fake.log")
    env = {"PATH": os.environ["PATH"], "HOME": str(work), "GITHUB_APP_ID": "4242",
           "GITHUB_PRIVATE_KEY": private, "GITHUB_WEBHOOK_SECRET": SECRET,
           "GITHUB_API_URL": f"http://127.0.0.1:{fake_port}", "UPGRADE_DEPS_DB": url,
           "UPGRADE_DEPS_METRICS_DIR": str(work / "metrics")}  # fmt: skip
    server = None
    try:
        await listening(fake_port, fake)  # the fake answers /app only signed: wait for its port instead
        server = await start(sys.executable, "-m", "bot.cli", "serve", "--port", str(port), "--workers", "0",
                             env=env, log=work / "serve.log")  # fmt: skip
        try:
            await wait_ready(f"http://127.0.0.1:{port}/healthz", server)
        except SystemExit:
            print((work / "serve.log").read_text()[-3000:], file=sys.stderr)
            raise
        body = (FIXTURES / "pull_request.opened.json").read_bytes()
        begin, ticks = time.perf_counter(), cpu_ticks()
        cpu = (process_cpu(server.pid), process_cpu(cluster.pid(), children=True), process_cpu(os.getpid()))
        sent, accepted, latencies = await load(f"http://127.0.0.1:{port}/webhook", [body], secret=SECRET,
                                               prefix="pg", rate=rate, duration=duration)  # fmt: skip
        elapsed = time.perf_counter() - begin
        spent = (process_cpu(server.pid) - cpu[0], process_cpu(cluster.pid(), children=True) - cpu[1],
                 process_cpu(os.getpid()) - cpu[2])  # fmt: skip
    finally:
        if server is not None:
            await stop(server)
        await stop(fake)
    each = [f"{name} {seconds * 1e3 / max(accepted, 1):.2f}" for name, seconds in
            zip(("serve", "PostgreSQL", "load generator"), spent, strict=True)]  # fmt: skip
    found = figures("pg-intake", sent, accepted, latencies, elapsed, jobs_in(url, "pg"), ticks)
    return found, "CPU ms per delivery: " + ", ".join(each)


async def listening(port: int, process: asyncio.subprocess.Process, timeout: float = 60) -> None:  # noqa: ASYNC109
    """Wait until `port` on loopback accepts a connection (a deadline for another process, not a sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.returncode is None:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise SystemExit(f"nothing listens on port {port} (exit code {process.returncode})")


def burn(rounds: int) -> None:
    digest = b"upgrade-deps"
    for _ in range(rounds):
        digest = hashlib.sha256(digest).digest()


def calibrate(cost: float) -> int:
    """Hashing rounds that take `cost` seconds of CPU on this machine (best of three)."""
    rounds, best = 200_000, float("inf")
    for _ in range(3):
        begin = time.process_time()
        burn(rounds)
        best = min(best, time.process_time() - begin)
    return int(rounds * cost / best)


async def worker_main(url: str, rounds: int) -> None:
    """One worker process: the real pool and store, a runner of fixed CPU cost; drains on SIGTERM."""
    store = PgJobStore(url, lease=60)

    async def runner(job: Job) -> None:
        burn(rounds)

    pool = WorkerPool(store, runner, size=1)
    pool.start()
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    while not stopping.is_set():
        pool.wake()  # no listener here: poll the queue every 50 ms
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), 0.05)
    await pool.drain()
    store.close()


async def throughput(cluster: Cluster, processes: int, jobs: int, rounds: int) -> tuple[float, float]:
    """(seconds from the first job stored to the last done, jobs/s) with `processes` workers."""
    url = cluster.create_database()
    db = Database(url)
    migrate(db, at_start=True)
    argv = [sys.executable, "-m", "benchmarks.scale", "--worker", url, str(rounds)]
    workers = [await asyncio.create_subprocess_exec(*argv, cwd=ROOT) for _ in range(processes)]
    await until(lambda: connected(url) >= processes)  # the workers' start-up is not part of the figure
    begin = time.perf_counter()
    insert(db, [NewJob(f"job-{n}", f"o/r#{n}", "command", "{}") for n in range(jobs)])
    await until(lambda: jobs_in_state(url, "done") >= jobs)
    elapsed = time.perf_counter() - begin
    for process in workers:
        process.send_signal(signal.SIGTERM)
    for process in workers:
        await process.wait()
    db.close()
    return elapsed, jobs / elapsed


async def until(reached: Callable[[], bool]) -> None:
    """Poll the database: what other processes do there sets no event in this one."""
    while not reached():  # noqa: ASYNC110 - see above
        await asyncio.sleep(0.05)


def connected(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = 'upgrade-deps'"
            " AND datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


def jobs_in_state(url: str, state: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT COUNT(*) FROM jobs WHERE state = %s", (state,)).fetchone()
    return int(row[0]) if row else 0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", choices=("intake", "throughput"))
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--jobs", type=int, default=48)
    parser.add_argument("--cost", type=float, default=0.25, help="CPU seconds per job")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}", flush=True)
    # fsync on: a 202 means the row is on disk, as on a production server
    durable = running_cluster(durable=True)
    with durable as cluster, tempfile.TemporaryDirectory(prefix="upgrade-deps-scale-") as tmp:
        print(f"work directory {tmp}", flush=True)
        if args.only in (None, "intake"):
            print(f"intake: {args.rate:.0f} deliveries/s for {args.duration:.0f} s", flush=True)
            found, cpu = await intake(cluster, Path(tmp), args.rate, args.duration)
            print(found.line(), cpu, sep="\n  ", flush=True)
        if args.only in (None, "throughput"):
            rounds = calibrate(args.cost)
            print(f"throughput: {args.jobs} jobs of {args.cost} s CPU ({rounds} sha256 rounds)", flush=True)
            base = None
            for processes in (1, 2, 4):
                elapsed, rate = await throughput(cluster, processes, args.jobs, rounds)
                base = base or rate
                linear = base * min(processes, os.cpu_count() or 1)
                share = rate / linear
                print(f"  {processes} worker(s): {elapsed:6.2f} s  {rate:5.2f} jobs/s  "
                      f"{share:5.0%} of linear  load {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        asyncio.run(worker_main(sys.argv[2], int(sys.argv[3])))
    else:
        asyncio.run(main())
