"""`upgrade-deps worker`: job workers on any machine, against the PostgreSQL job store; drains on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import sys
from argparse import Namespace
from typing import NoReturn

from aiohttp import web
from prometheus_client import generate_latest

from bot.service.logs import configure
from bot.service.metrics import CONTENT_TYPE, Metrics
from bot.service.startup import ready
from bot.service.worker import WorkerPool
from bot.service.workerproc import working, yield_cpu
from bot.settings import Settings, SettingsError, from_process, hand_over, taken_over, without_secrets

log = logging.getLogger("upgrade-deps.worker")


def _reexec(settings: Settings, args: Namespace) -> NoReturn:
    """Become a process (same pid) whose environment and command line hold no secret (as `serve` does)."""
    fd = hand_over(settings)
    argv = [sys.executable, "-m", "bot.cli", "worker", "--settings-fd", str(fd)]
    if args.concurrency is not None:
        argv += ["--concurrency", str(args.concurrency)]
    if args.metrics_port is not None:
        argv += ["--metrics-port", str(args.metrics_port), "--metrics-host", args.metrics_host]
    sys.stdout.flush()
    sys.stderr.flush()
    # Our own interpreter and module, a fixed command line; the secrets follow through the descriptor.
    os.execve(sys.executable, argv, without_secrets())  # noqa: S606 - no shell wanted


async def expose(metrics: Metrics, host: str, port: int) -> web.AppRunner:
    """This process's metrics at http://host:port/metrics until the runner is cleaned up.

    Only its own counts: the queue's gauges come from the database, which every replica's /metrics
    already reads, and summing them over workers would count each job several times.
    """

    async def scrape(_: web.Request) -> web.Response:
        return web.Response(body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE})

    app = web.Application()
    app.router.add_get("/metrics", scrape)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError:
        await runner.cleanup()
        raise
    return runner


async def work(settings: Settings, *, metrics_at: tuple[str, int] | None = None) -> int:
    """Run jobs until SIGTERM or SIGINT; then drain (a second signal stops at once)."""
    app = await ready(settings, role="worker", log=log)
    if app is None:
        return 1
    metrics, exposing = Metrics(), None
    if metrics_at is not None:
        try:
            exposing = await expose(metrics, *metrics_at)
        except OSError as exc:
            print(f"upgrade-deps worker: --metrics-port: cannot listen on {metrics_at[0]}:{metrics_at[1]}:"
                  f" {exc.strerror or exc}", file=sys.stderr)  # fmt: skip
            return 2
    signals = asyncio.Queue[int]()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, signals.put_nowait, sig)
    try:
        async with working(settings, app, metrics=metrics) as pool:
            await _until_stopped(pool, settings.workers, signals)
    finally:
        if exposing is not None:
            await exposing.cleanup()
    return 0


async def _until_stopped(pool: WorkerPool, size: int, signals: asyncio.Queue[int]) -> None:
    print(f"upgrade-deps worker: running up to {size} job(s) at a time", flush=True)
    await signals.get()
    print(f"upgrade-deps worker: draining: {pool.running} job(s) running, no new one starts;"
          " signal again to stop now", flush=True)  # fmt: skip
    drain = asyncio.create_task(pool.drain())
    again = asyncio.create_task(signals.get())
    await asyncio.wait({drain, again}, return_when=asyncio.FIRST_COMPLETED)
    again.cancel()
    if not drain.done():
        print("upgrade-deps worker: stopping now; the jobs cut short are queued again", flush=True)
        drain.cancel()


def main(args: Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        if args.settings_fd is None:
            _reexec(from_process(role="worker"), args)
        settings = taken_over(args.settings_fd)
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"upgrade-deps worker: {problem}", file=sys.stderr)
        return 2
    if not settings.db_url:
        print("upgrade-deps worker: needs the PostgreSQL job store (UPGRADE_DEPS_DB=postgresql://...);"
              " with SQLite, `upgrade-deps serve` runs the jobs itself", file=sys.stderr)  # fmt: skip
        return 2
    configure(fmt=settings.log_format, level=settings.log_level,
              secrets=(settings.webhook_secret, settings.private_key, settings.status_token))  # fmt: skip
    if args.concurrency is not None:
        settings = dataclasses.replace(settings, workers=args.concurrency)
    yield_cpu()
    with contextlib.suppress(KeyboardInterrupt):
        where = None if args.metrics_port is None else (args.metrics_host, args.metrics_port)
        return asyncio.run(work(settings, metrics_at=where))
    return 0
