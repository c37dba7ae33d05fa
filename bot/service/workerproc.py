"""The job workers' own process (both sides): jobs never share an event loop with the webhook server."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import asdict, replace
from typing import Any

import aiohttp

from bot.pipeline.context import Runtime
from bot.pipeline.upgrade import run_upgrade
from bot.service import clone_dirs as sandboxes
from bot.service.github import AppInfo, GitHub
from bot.service.job_events import JobEvents
from bot.service.job_runner import JobRunner
from bot.service.logs import configure
from bot.service.metrics import Metrics, process_gone
from bot.service.pgconn import listen
from bot.service.services import Services
from bot.service.store import open_queue
from bot.service.worker import WorkerPool
from bot.settings import Settings, decode, encode, multiprocess_dir
from bot.tools.isolation_host import service_isolation

log = logging.getLogger("upgrade-deps.workers")
PR_SET_PDEATHSIG = 1


def handover(settings: Settings, app: AppInfo) -> bytes:
    """The first line the server writes to the worker process: its settings (never in argv or env)."""
    # The status page's token stays with the server: the workers have no use for it.
    data: dict[str, Any] = {**encode(replace(settings, status_token="")), "app": asdict(app)}
    return json.dumps(data).encode() + b"\n"


class WorkerProcess:
    """The workers run in a child process, restarted if it dies; the server only wakes it up."""

    def __init__(self, settings: Settings, app: AppInfo) -> None:
        self.settings = settings
        self.app = app
        self.process: asyncio.subprocess.Process | None = None
        self._stopping = False
        self._pending = False
        self._supervisor: asyncio.Task[None] | None = None
        self.restarts = 0  # how often the worker process died and was started again (the status page)

    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        await self._spawn()
        self._supervisor = asyncio.create_task(self._supervise(), name="worker-supervisor")

    async def _spawn(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.service.workerproc", stdin=asyncio.subprocess.PIPE
        )
        assert self.process.stdin is not None  # noqa: S101 - started with stdin=PIPE
        # Settings go through the pipe: never in argv (visible to every user) nor in an environment.
        self.process.stdin.write(handover(self.settings, self.app))

    async def _supervise(self) -> None:
        while not self._stopping and self.process is not None:
            code = await self.process.wait()
            if self._stopping:
                return
            log.error("worker process exited with %s; starting another", code, extra={"exit_code": code})
            process_gone(multiprocess_dir(self.settings.environ), self.process.pid)
            self.restarts += 1
            await asyncio.sleep(1.0)
            await self._spawn()

    def wake(self) -> None:
        """Tell the workers a job is waiting (once per event-loop turn, however many arrived)."""
        if not self._pending:
            self._pending = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._pending = False
        if self.process is not None and self.process.stdin is not None and self.process.returncode is None:
            with contextlib.suppress(ConnectionError, RuntimeError):
                self.process.stdin.write(b"\n")

    async def stop(self) -> None:
        """Close the pipe: the workers stop; jobs cut short stay 'running' and re-run at next start."""
        self._stopping = True
        if self.process is None or self.process.returncode is not None:
            return
        assert self.process.stdin is not None  # noqa: S101 - started with stdin=PIPE
        self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        if self._supervisor is not None:
            await self._supervisor


def _settings(data: Mapping[str, Any]) -> tuple[Settings, AppInfo]:
    return decode({key: value for key, value in data.items() if key != "app"}), AppInfo(**data["app"])


def _die_with_parent() -> None:
    """Linux: be killed when the server dies, so a restarted server never races a leftover worker."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@contextlib.asynccontextmanager
async def working(
    settings: Settings, app: AppInfo, *, metrics: Metrics | None = None
) -> AsyncIterator[WorkerPool]:
    """`settings.workers` workers running jobs for as long as the block lasts; stopped at its end.

    They count into `metrics` (a fresh set when None: the server that supervises this process
    reads it through the shared metrics directory).

    With PostgreSQL they also wake on the database's notifications of new jobs (whichever replica
    stored them); with SQLite the server that supervises this process wakes them.
    """
    isolation = await service_isolation(settings)
    if isolation.mode != "bwrap":
        log.warning("repository code runs %s: %s", isolation.mode, isolation.reason)
    store = open_queue(settings)
    # Before any job runs: clones left by worker processes that died (killed mid-job) are removed.
    own, removed = sandboxes.claim(settings.sandbox_dir)
    if removed:
        log.info("removed the sandboxes of %d stopped worker process(es)", len(removed))
    metrics = metrics if metrics is not None else Metrics()
    async with aiohttp.ClientSession() as session:
        github = GitHub(session, app_id=settings.app_id, private_key=settings.private_key,
                        api_url=settings.api_url, metrics=metrics)  # fmt: skip
        runtime = Runtime(settings.environ, isolation, uv_timeout=settings.uv_timeout, observer=metrics)
        services = Services(github=github, store=store, app=app, upgrade=run_upgrade, runtime=runtime,
                            sandboxes=own.path, git_host=settings.git_host)  # fmt: skip
        runner = JobRunner(services)
        pool = WorkerPool(store, runner.run, size=settings.workers, on_failure=runner.failed,
                          events=JobEvents(store=store, metrics=metrics))  # fmt: skip
        pool.start()
        notified = asyncio.create_task(listen(settings.db_url, pool.wake)) if settings.db_url else None
        try:
            yield pool
        finally:
            if notified is not None:
                notified.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await notified
            await pool.stop()
            store.close()
            own.release()


async def run(settings: Settings, app: AppInfo, wakeups: asyncio.StreamReader) -> None:
    """Work until the server closes our stdin (or dies): each line received is a wake-up."""
    async with working(settings, app) as pool:
        while await wakeups.readline():
            pool.wake()


async def _main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=16 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    first = await reader.readline()
    if not first:
        return
    settings, app = _settings(json.loads(first))
    configure(fmt=settings.log_format, level=settings.log_level,
              secrets=(settings.webhook_secret, settings.private_key))  # fmt: skip
    await run(settings, app, reader)


def yield_cpu() -> None:
    """Make this process, and the git and uv it starts, give way to the webhook server.

    Acknowledging webhooks within GitHub's 10 s (ours: milliseconds) matters more than a job
    finishing a little sooner. Nice 10 gives jobs a smaller share when both want the CPU; batch
    scheduling (Linux) also stops a waking job from preempting the server mid-request.
    """
    os.nice(10)
    if hasattr(os, "sched_setscheduler"):
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))


def main() -> None:
    _die_with_parent()
    yield_cpu()
    # Until the settings arrive (they name the format and level): a start-up failure still reaches stderr.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Ctrl-C reaches the whole process group; the server decides when we stop (it closes our stdin).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main())


if __name__ == "__main__":
    main()
