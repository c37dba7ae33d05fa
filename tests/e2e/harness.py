"""Starts the real `upgrade-deps serve` as a child process, against the fake GitHub in the test's loop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from tests.fakegithub.loopback import APP_ID
from tests.support.appkeys import key_pair
from tests.support.http import free_port
from tests.support.measured import measured
from tests.support.webhooks import SECRET, headers

ROOT = Path(__file__).resolve().parents[2]


class ServerProcess:
    """The real server, restartable on the same database; `deliver` posts a signed webhook.

    `db` is a PostgreSQL URL for a replica of a scaled-out deployment (then, by default, it runs no
    jobs: `WorkerCommand` does), `name` tells the log files of several servers apart.
    """

    def __init__(self, *, api_url: str, tmp: Path, db: str | None = None, name: str = "server",
                 args: tuple[str, ...] = ()) -> None:  # fmt: skip
        self.tmp = tmp
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / f"{name}.log"
        self.args = args
        self.sandboxes = tmp / "sandboxes"  # the worker processes' clones, one locked directory each
        self.env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(tmp),
            "GITHUB_APP_ID": str(APP_ID),
            "GITHUB_PRIVATE_KEY": key_pair()[0],
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "GITHUB_API_URL": api_url,
            "UPGRADE_DEPS_DB": str(tmp / "jobs.sqlite3"),
            "UPGRADE_DEPS_WORKERS": "2",
            "UPGRADE_DEPS_SANDBOX_DIR": str(self.sandboxes),
        }
        if db is not None:
            self.env["UPGRADE_DEPS_DB"] = db
            # Its metrics files beside its log, not beside the default SQLite path in the repository.
            self.env["UPGRADE_DEPS_METRICS_DIR"] = str(tmp / f"{name}-metrics")
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        log = self.log.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
            *self.args, cwd=ROOT, env=measured(self.env), stdout=log, stderr=log,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    raise AssertionError(f"server exited {self.process.returncode}:\n{self.log.read_text()}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.1)
        raise AssertionError(f"server did not start:\n{self.log.read_text()}")

    def children(self) -> list[int]:
        assert self.process is not None
        pid = self.process.pid
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    async def kill(self) -> None:
        """SIGKILL: no chance to clean up, as in a crash. Returns once its worker process is dead too
        (it gets SIGKILL when the server dies), so nothing of the old run answers after a restart."""
        assert self.process is not None
        workers = self.children()
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        await until(lambda: not any(alive(pid) for pid in workers), what="the worker process to die")

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()

    async def deliver(self, event: str, data: dict[str, Any], *, delivery: str | None = None,
                      secret: str | None = SECRET) -> tuple[int, dict[str, Any]]:  # fmt: skip
        body = json.dumps(data).encode()
        async with aiohttp.ClientSession() as session:
            hdrs = headers(event, body, delivery=delivery, secret=secret)
            async with session.post(f"{self.url}/webhook", data=body, headers=hdrs) as response:
                return response.status, await response.json()

    async def health(self) -> dict[str, Any]:
        async with aiohttp.ClientSession() as session, session.get(f"{self.url}/healthz") as response:
            result: dict[str, Any] = await response.json()
            return result

    async def health_status(self) -> int:
        async with aiohttp.ClientSession() as session, session.get(f"{self.url}/healthz") as response:
            return response.status

    # ASYNC109 (here and in until): a deadline for polling another process, failing with what it waited for.
    async def idle(self, timeout: float = 90) -> dict[str, int]:  # noqa: ASYNC109
        """Wait until no job is queued or running; returns the job counts by state."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            jobs: dict[str, int] = (await self.health())["jobs"]
            if not jobs.get("queued") and not jobs.get("running"):
                return jobs
            await asyncio.sleep(0.2)
        raise AssertionError(f"jobs still pending: {jobs}\n{self.log.read_text()[-4000:]}")


class WorkerCommand:
    """The real `upgrade-deps worker` against a PostgreSQL job store; ready once it says it runs."""

    def __init__(self, *, api_url: str, tmp: Path, db: str, name: str, lease: float) -> None:
        self.log = tmp / f"{name}.log"
        self.env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(tmp),
            "GITHUB_APP_ID": str(APP_ID),
            "GITHUB_PRIVATE_KEY": key_pair()[0],
            "GITHUB_API_URL": api_url,
            "UPGRADE_DEPS_DB": db,
            "UPGRADE_DEPS_LEASE": str(lease),
            "UPGRADE_DEPS_SANDBOX_DIR": str(tmp / "sandboxes"),
            "UPGRADE_DEPS_METRICS_DIR": str(tmp / f"{name}-metrics"),
        }
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, *args: str) -> None:
        log = self.log.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "worker", *args,
            cwd=ROOT, env=measured(self.env), stdout=log, stderr=log,
        )  # fmt: skip
        await until(lambda: "upgrade-deps worker: running" in self.log.read_text() or self._exited(),
                    timeout=60, what=f"{self.log.name} to start")  # fmt: skip
        if self._exited():
            raise AssertionError(f"worker exited {self.process.returncode}:\n{self.log.read_text()}")

    def _exited(self) -> bool:
        return self.process is not None and self.process.returncode is not None

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 60)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def alive(pid: int) -> bool:
    """Whether `pid` still runs (a zombie has exited: its files, and so its locks, are closed)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


async def until(condition: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
