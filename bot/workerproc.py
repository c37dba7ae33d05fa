"""The job workers' own process: `serve` starts it so jobs never share an event loop with webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import signal
import sys
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import aiohttp

from bot.github import AppInfo, GitHub
from bot.jobs import JobStore
from bot.pipeline import run_upgrade
from bot.service import JobRunner, Services
from bot.settings import Settings
from bot.worker import WorkerPool

log = logging.getLogger("upgrade-deps.workers")
PR_SET_PDEATHSIG = 1


def handover(settings: Settings, app: AppInfo) -> bytes:
    """The first line the server writes to the worker process: its settings (never in argv or env)."""
    data: dict[str, Any] = {**asdict(settings), "db_path": str(settings.db_path), "app": asdict(app)}
    return json.dumps(data).encode() + b"\n"


def _settings(data: Mapping[str, Any]) -> tuple[Settings, AppInfo]:
    fields = {key: value for key, value in data.items() if key != "app"}
    fields["db_path"] = Path(fields["db_path"])
    return Settings(**fields), AppInfo(**data["app"])


def _die_with_parent() -> None:
    """Linux: be killed when the server dies, so a restarted server never races a leftover worker."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


async def run(settings: Settings, app: AppInfo, wakeups: asyncio.StreamReader) -> None:
    """Work until the server closes our stdin (or dies): each line received is a wake-up."""
    store = JobStore(settings.db_path)
    async with aiohttp.ClientSession() as session:
        github = GitHub(
            session, app_id=settings.app_id, private_key=settings.private_key, api_url=settings.api_url
        )
        services = Services(github=github, store=store, app=app, environ=settings.environ,
                            upgrade=run_upgrade, uv_timeout=settings.uv_timeout)  # fmt: skip
        runner = JobRunner(services)
        pool = WorkerPool(store, runner.run, size=settings.workers, on_failure=runner.failed)
        pool.start()
        try:
            while await wakeups.readline():
                pool.wake()
        finally:
            await pool.stop()
            store.close()


async def _main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=16 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    first = await reader.readline()
    if not first:
        return
    settings, app = _settings(json.loads(first))
    await run(settings, app, reader)


def main() -> None:
    _die_with_parent()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # Ctrl-C reaches the whole process group; the server decides when we stop (it closes our stdin).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main())


if __name__ == "__main__":
    main()
