"""`upgrade-deps serve`: the aiohttp webhook server; verifies, persists a job, answers 202."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sqlite3
import sys
from argparse import Namespace
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

import aiohttp
import orjson
from aiohttp import web
from gidgethub import ValidationFailure
from gidgethub.sansio import Event, validate_event

from bot import jobspec
from bot.errors import UpgradeDepsError
from bot.github import GitHub
from bot.inbox import Inbox, NewJob
from bot.jobs import JobStore
from bot.settings import Settings, SettingsError, from_process, hand_over, taken_over, without_secrets
from bot.workerproc import WorkerProcess
from handlers import router
from handlers.intake import AppIdentity, Intake

log = logging.getLogger("upgrade-deps.server")
MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
RETRY_LOCKED = 0.002  # seconds before trying a write again that found the database locked


class GroupCommit:
    """Deliveries that arrive in the same event-loop turn are persisted in one transaction.

    Each request still waits for its own row to be committed before it is acknowledged.
    """

    def __init__(self, store: Inbox) -> None:
        self.store = store
        self._pending: list[tuple[NewJob, asyncio.Future[int | None]]] = []
        self._retrying = False
        self.locked = 0  # writes that found the database locked and were retried (see /healthz)

    async def add(self, job: NewJob) -> int | None:
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        if not self._pending and not self._retrying:
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.append((job, future))
        return await future

    def _flush(self) -> None:
        batch, self._pending, self._retrying = self._pending, [], False
        if not batch:
            return
        try:
            ids = self.store.add_many([job for job, _ in batch])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                self._fail(batch, exc)
                return
            # The worker process holds the write lock for a moment: try again shortly, with any
            # deliveries that arrived meanwhile, instead of sleeping with the event loop stopped.
            self._pending = batch + self._pending
            self._retrying = True
            self.locked += 1
            asyncio.get_running_loop().call_later(RETRY_LOCKED, self._flush)
            return
        except Exception as exc:
            self._fail(batch, exc)
            return
        for (_, future), job_id in zip(batch, ids, strict=True):
            future.set_result(job_id)

    @staticmethod
    def _fail(batch: list[tuple[NewJob, asyncio.Future[int | None]]], exc: Exception) -> None:
        for _, future in batch:  # every waiting request answers 500; none is dropped silently
            future.set_exception(exc)


@dataclass(frozen=True)
class Hooks:
    """What the webhook endpoint needs: no GitHub client, no git: only the store."""

    secret: str
    store: Inbox
    identity: AppIdentity
    wake: Callable[[], None] | None = None
    commits: GroupCommit | None = None


def _reply(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


async def accept(request: web.Request, hooks: Hooks) -> web.Response:
    body = await request.read()
    signature = request.headers.get("X-Hub-Signature-256")
    if not signature:
        return _reply(401, "missing X-Hub-Signature-256")
    try:
        validate_event(body, signature=signature, secret=hooks.secret)
    except ValidationFailure:
        return _reply(401, "signature does not match")
    event_name = request.headers.get("X-GitHub-Event")
    delivery = request.headers.get("X-GitHub-Delivery")
    if not event_name or not delivery:
        return _reply(400, "missing X-GitHub-Event or X-GitHub-Delivery header")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _reply(400, "body is not JSON")
    if not isinstance(data, dict):
        return _reply(400, "body is not a JSON object")
    if event_name == "ping":
        return _reply(200, "pong")
    intake = Intake(hooks.identity)
    try:
        await router.dispatch(Event(data, event=event_name, delivery_id=delivery), intake)
    except (KeyError, TypeError, ValueError) as exc:
        return _reply(400, f"payload of {event_name} lacks a field we need ({type(exc).__name__}: {exc})")
    if not intake.accepted:
        return _reply(200, "nothing to do for this delivery")
    created = []
    commits = hooks.commits or GroupCommit(hooks.store)
    for index, spec in enumerate(intake.accepted):
        key = delivery if index == 0 else f"{delivery}/{index}"
        job = NewJob(key, jobspec.subject(spec), jobspec.kind_of(spec), jobspec.dumps(spec),
                     jobspec.coalesce_key(spec))  # fmt: skip
        job_id = await commits.add(job)
        if job_id is not None:
            created.append(job_id)
    if hooks.wake is not None:
        hooks.wake()
    return web.json_response({"jobs": created, "redelivery": not created}, status=202)


def make_app(hooks: Hooks) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)

    async def webhook(request: web.Request) -> web.Response:
        return await accept(request, hooks)

    async def healthz(_: web.Request) -> web.Response:
        locked = hooks.commits.locked if hooks.commits else 0
        return web.json_response({"ok": True, "jobs": hooks.store.counts(), "locked_retries": locked})

    app.router.add_post("/webhook", webhook)
    app.router.add_get("/healthz", healthz)
    return app


async def serve(settings: Settings, host: str, port: int) -> int:
    async with aiohttp.ClientSession() as session:
        github = GitHub(
            session, app_id=settings.app_id, private_key=settings.private_key, api_url=settings.api_url
        )
        try:
            app_info = await github.app()
        except UpgradeDepsError as exc:
            print(f"upgrade-deps serve: cannot read the app from {settings.api_url}: {exc}", file=sys.stderr)
            return 1
    JobStore(settings.db_path).close()  # both files and their tables exist before anyone uses them
    store = Inbox(settings.db_path)
    workers = WorkerProcess(settings, app_info)
    identity = AppIdentity(app_info.id, app_info.bot_login)
    hooks = Hooks(settings.webhook_secret, store, identity, workers.wake, GroupCommit(store))
    web_runner = web.AppRunner(make_app(hooks), access_log=None)
    await web_runner.setup()
    await web.TCPSite(web_runner, host, port).start()
    await workers.start()
    print(f"upgrade-deps serve: listening on http://{host}:{port} as {app_info.bot_login}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await web_runner.cleanup()
        await workers.stop()
        store.close()
    return 0


def _reexec(settings: Settings, args: Namespace) -> NoReturn:
    """Become a process (same pid) whose environment and command line hold no secret."""
    fd = hand_over(settings)
    argv = [sys.executable, "-m", "bot.cli", "serve", "--host", args.host, "--port", str(args.port),
            "--settings-fd", str(fd)]  # fmt: skip
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, argv, without_secrets())


def main(args: Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        if args.settings_fd is None:
            _reexec(from_process(), args)
        settings = taken_over(args.settings_fd)
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"upgrade-deps serve: {problem}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(serve(settings, args.host, args.port))
    return 0
