"""Scale-out benchmarks on PostgreSQL: webhook intake of a `serve` replica, and job throughput by workers.

intake      the real `upgrade-deps serve --workers 0` on a throwaway PostgreSQL cluster on this
            machine, sent the real pull_request.opened delivery (about 28 KB) at --rate deliveries/s
            for --duration seconds (open loop, benchmarks/loadgen.py); p50/p99, and every accepted
            delivery counted as one job in the database afterwards
throughput  --jobs jobs of a fixed CPU cost (--cost seconds of hashing, calibrated once), each of its
            own pull request, claimed from the PostgreSQL job store by 1, 2 and 4 worker processes
            (the real WorkerPool and PgJobStore, one job at a time each); jobs/s and the share of
            linear scaling up to the cores this machine has; the three runs are repeated --repeat
            times in turn and summed up as medians with their spread

  .venv/bin/python -m benchmarks.scale [--only intake|throughput] [--rate 1000] [--duration 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import signal
import statistics
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
from bot.service.pgconn import Database, listen  # noqa: E402
from bot.service.pgintake import insert  # noqa: E402
from bot.service.pgjobs import PgJobStore  # noqa: E402
from bot.service.pgschema import migrate  # noqa: E402
from bot.service.worker import WorkerPool  # noqa: E402
from tests.support.appkeys import key_pair  # noqa: E402
from tests.support.http import free_port  # noqa: E402
from tests.support.postgres import Cluster, running_cluster  # noqa: E402
from tests.support.webhooks import FIXTURES  # noqa: E402

WORKERS = (1, 2, 4)  # worker processes of the throughput runs


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


def cpu_of(rounds: int) -> float:
    begin = time.process_time()
    burn(rounds)
    return time.process_time() - begin


def calibrate(cost: float) -> int:
    """Hashing rounds that take `cost` seconds of CPU on this machine (best of three)."""
    rounds = 200_000
    return int(rounds * cost / min(cpu_of(rounds) for _ in range(3)))


async def worker_main(url: str, rounds: int) -> None:
    """A worker process: the real pool, store and notifications, jobs of fixed CPU cost; drains on SIGTERM."""
    store = PgJobStore(url, lease=60)

    async def runner(job: Job) -> None:
        burn(rounds)

    pool = WorkerPool(store, runner, size=1)
    pool.start()
    notified = asyncio.create_task(listen(url, pool.wake))  # woken by NOTIFY, as `upgrade-deps worker` is
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    await stopping.wait()
    await pool.drain()
    notified.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await notified
    store.close()


async def throughput(cluster: Cluster, processes: int, jobs: int, rounds: int) -> tuple[float, float, float]:
    """(seconds from the first job stored to the last done, jobs/s, CPU seconds per job of the workers
    and the database) with `processes` workers."""
    url = cluster.create_database()
    db = Database(url)
    migrate(db, at_start=True)
    argv = [sys.executable, "-m", "benchmarks.scale", "--worker", url, str(rounds)]
    workers = [await asyncio.create_subprocess_exec(*argv, cwd=ROOT) for _ in range(processes)]
    # One connection watches: a new one per look would fork a backend each time, CPU the workers lose.
    with psycopg.connect(url, autocommit=True) as watch:
        # Each worker holds two connections (jobs, notifications); its start-up is not measured.
        await until(lambda: connected(watch) >= 2 * processes)
        begin, cpu = time.perf_counter(), spent(workers, cluster)
        insert(db, [NewJob(f"job-{n}", f"o/r#{n}", "command", "{}") for n in range(jobs)])
        await until(lambda: done(watch) >= jobs)
        elapsed, cpu = time.perf_counter() - begin, spent(workers, cluster) - cpu
    for process in workers:
        process.send_signal(signal.SIGTERM)
    for process in workers:
        await process.wait()
    db.close()
    return elapsed, jobs / elapsed, cpu / jobs


def spent(workers: list[asyncio.subprocess.Process], cluster: Cluster) -> float:
    """CPU seconds the worker processes and the database have used so far."""
    return sum(process_cpu(w.pid) for w in workers) + process_cpu(cluster.pid(), children=True)


async def until(reached: Callable[[], bool]) -> None:
    """Poll the database: what other processes do there sets no event in this one."""
    while not reached():  # noqa: ASYNC110 - see above
        await asyncio.sleep(0.02)


def connected(watch: psycopg.Connection[tuple[int]]) -> int:
    row = watch.execute(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = 'upgrade-deps'"
        " AND datname = current_database()"
    ).fetchone()
    return int(row[0]) if row else 0


def done(watch: psycopg.Connection[tuple[int]]) -> int:
    row = watch.execute("SELECT COUNT(*) FROM jobs WHERE state = 'done'").fetchone()
    return int(row[0]) if row else 0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", choices=("intake", "throughput"))
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--jobs", type=int, default=48)
    parser.add_argument("--cost", type=float, default=0.25, help="CPU seconds per job")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the throughput runs")
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
            await throughputs(cluster, args.jobs, args.cost, args.repeat)


async def throughputs(cluster: Cluster, jobs: int, cost: float, repeat: int) -> None:
    """1, 2 and 4 workers in turn, `repeat` times over (side by side, so a change of load hits each alike);
    each figure's median and spread, and the share of linear scaling of the medians."""
    rounds = calibrate(cost)
    cost = statistics.median(cpu_of(rounds) for _ in range(3))  # what a job costs, not the best case
    print(f"throughput: {jobs} jobs of {cost:.3f} s CPU ({rounds} sha256 rounds), {repeat} rounds",
          flush=True)  # fmt: skip
    rates: dict[int, list[float]] = {processes: [] for processes in WORKERS}
    for _ in range(repeat):
        for processes in WORKERS:
            elapsed, rate, cpu = await throughput(cluster, processes, jobs, rounds)
            rates[processes].append(rate)
            # Beyond the job's own cost: what claiming, running and finishing it cost, here and there.
            print(f"  {processes} worker(s): {elapsed:6.2f} s  {rate:5.2f} jobs/s  queue CPU per job"
                  f" {(cpu - cost) * 1e3:5.1f} ms  load {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
    base = statistics.median(rates[1])
    for processes, found in rates.items():
        median, linear = statistics.median(found), base * min(processes, os.cpu_count() or 1)
        print(f"  median {processes} worker(s): {median:5.2f} jobs/s ({min(found):.2f}-{max(found):.2f}),"
              f" {median / linear:4.0%} of linear")  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        asyncio.run(worker_main(sys.argv[2], int(sys.argv[3])))
    else:
        asyncio.run(main())
