"""`upgrade-deps serve`: the aiohttp webhook server; verifies, persists a job, answers 202."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import sqlite3
import sys
from argparse import Namespace
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

import orjson
from aiohttp import web
from gidgethub.sansio import Event

from bot.errors import PayloadError, StoreError, StoreUnavailableError
from bot.service import jobspec
from bot.service import store as job_store
from bot.service.delivery_log import Delivered, describe, log_delivery
from bot.service.group_commit import GroupCommit
from bot.service.inbox import NewJob
from bot.service.logs import configure
from bot.service.metrics import Metrics, Stopwatch, prepare_directory
from bot.service.operator_pages import OperatorPages, add_routes, pages_of
from bot.service.startup import ready
from bot.service.status_page import StatusPage
from bot.service.store import Deliveries
from bot.service.workerproc import WorkerProcess
from bot.settings import (
    Settings,
    SettingsError,
    from_process,
    hand_over,
    multiprocess_dir,
    taken_over,
    without_secrets,
)
from handlers import router
from handlers.delivery import Delivery, delivery_of, signature_problem
from handlers.intake import AppIdentity, Intake
from handlers.payloads import check_action

log = logging.getLogger("upgrade-deps.server")
MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB


# What storing a row can raise: SQLite's errors, a string it cannot encode, an integer it cannot hold;
# PostgreSQL's, as ours (StoreUnavailableError when the database is gone).
STORE_ERRORS = (sqlite3.Error, ValueError, OverflowError, StoreError)


@dataclass(frozen=True)
class Hooks:
    """What the webhook endpoint needs: no GitHub client, no git: only the store."""

    secret: str
    store: Deliveries
    identity: AppIdentity
    wake: Callable[[], None] | None = None
    commits: GroupCommit | None = None
    metrics: Metrics | None = None
    scrape: Callable[[], bytes] | None = None  # GET /metrics
    status: StatusPage | None = None  # GET /status, when the operator set its token


def _reply(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


async def accept(request: web.Request, hooks: Hooks, facts: Delivered | None = None) -> web.Response:
    facts = facts if facts is not None else Delivered()
    facts.event = request.headers.get("X-GitHub-Event", "")
    facts.delivery = request.headers.get("X-GitHub-Delivery", "")
    body = await request.read()
    unsigned = signature_problem(request.headers, body, hooks.secret)
    if unsigned is not None:
        return _reply(401, unsigned)
    try:
        delivery = delivery_of(request.headers)
    except PayloadError as exc:
        return _reply(400, str(exc))
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _reply(400, "body is not JSON")
    if not isinstance(data, dict):
        return _reply(400, "body is not a JSON object")
    describe(facts, data)
    if delivery.event == "ping":
        facts.outcome = "ignored"
        return _reply(200, "pong")
    intake = Intake(hooks.identity)
    try:
        check_action(data)
        await router.dispatch(Event(data, event=delivery.event, delivery_id=delivery.id), intake)
    except PayloadError as exc:
        return _reply(400, f"{delivery.event} payload: {exc}")
    if not intake.accepted:
        # An event or action no router handles, a repository hook's delivery, a comment that is
        # no command: GitHub delivered what the app subscribed to, so this is 200, not an error.
        facts.outcome = "ignored"
        return _reply(200, "nothing to do for this delivery")
    return await _persist(hooks, delivery, intake.accepted, facts)


async def _persist(
    hooks: Hooks, delivery: Delivery, specs: list[jobspec.Spec], facts: Delivered
) -> web.Response:
    created = []
    commits = hooks.commits or GroupCommit(hooks.store)
    for index, spec in enumerate(specs):
        key = delivery.id if index == 0 else f"{delivery.id}/{index}"
        job = NewJob(key, jobspec.subject(spec), jobspec.kind_of(spec), jobspec.dumps(spec),
                     jobspec.coalesce_key(spec))  # fmt: skip
        try:
            job_id = await commits.add(job)
        except STORE_ERRORS as exc:
            # Not stored, so not acknowledged: GitHub records a failed delivery an operator can redeliver.
            log.error("delivery %s was not stored: %s: %s", delivery.id, type(exc).__name__, exc)
            facts.outcome = "not stored"
            return _reply(503, "the delivery could not be stored; redeliver it later")
        if job_id is not None:
            created.append(job_id)
    if hooks.wake is not None:
        hooks.wake()
    facts.outcome, facts.jobs = ("accepted" if created else "redelivery"), created
    return web.json_response({"jobs": created, "redelivery": not created}, status=202)


async def health(hooks: Hooks) -> web.Response:
    """/healthz: the jobs by state, or 503 when the job store is gone or does not answer."""
    commits = hooks.commits
    locked = commits.locked if commits else 0
    try:
        if commits is not None and commits.stalled:
            # No query to add behind the stuck write (each would hold a thread until it answers).
            raise StoreUnavailableError(f"the job store has not answered for {commits.wait:g} s")
        if commits is not None and commits.threaded:
            # A database that hangs takes the replica out of the load balancer as one that is gone.
            counts = await asyncio.wait_for(asyncio.to_thread(hooks.store.counts), commits.wait)
        else:
            counts = hooks.store.counts()
    except StoreError as exc:
        return web.json_response({"ok": False, "error": str(exc)}, status=503)
    except TimeoutError:
        error = f"the job store did not answer within {commits.wait if commits else 0:g} s"
        return web.json_response({"ok": False, "error": error}, status=503)
    return web.json_response({"ok": True, "jobs": counts, "locked_retries": locked})


def make_app(hooks: Hooks) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)

    async def webhook(request: web.Request) -> web.Response:
        clock, facts = Stopwatch(), Delivered()
        response = await accept(request, hooks, facts)
        log_delivery(hooks.metrics, facts, response, clock.seconds())
        return response

    async def healthz(_: web.Request) -> web.Response:
        return await health(hooks)

    app.router.add_post("/webhook", webhook)
    app.router.add_get("/healthz", healthz)
    add_routes(app, OperatorPages(hooks.scrape, hooks.status))
    return app


def worker_count(settings: Settings, asked: int | None) -> int:
    """Jobs this server's own worker process runs at a time: with PostgreSQL none unless asked."""
    if asked is not None:
        return asked
    return 0 if settings.db_url else settings.workers


async def serve(settings: Settings, host: str, port: int) -> int:
    if (metrics_dir := multiprocess_dir(settings.environ)) is not None:
        prepare_directory(metrics_dir)  # before the first metric: counts of an earlier run start again
    metrics = Metrics()
    app_info = await ready(settings, role="serve", log=log, metrics=metrics)
    if app_info is None:
        return 1
    # SQLite: both files and their tables exist before anyone uses them
    store = job_store.open_intake(settings)
    workers = WorkerProcess(settings, app_info) if settings.workers else None
    identity = AppIdentity(app_info.id, app_info.bot_login)
    wake = workers.wake if workers is not None else None
    pages = pages_of(settings, workers=workers, bot_login=identity.bot_login, metrics=metrics)
    hooks = Hooks(settings.webhook_secret, store, identity, wake, GroupCommit(store), metrics=metrics,
                  scrape=pages.scrape, status=pages.status)  # fmt: skip
    web_runner = web.AppRunner(make_app(hooks), access_log=None)
    await web_runner.setup()
    await web.TCPSite(web_runner, host, port).start()
    if workers is not None:
        await workers.start()
    if settings.log_format == "text":  # a JSON log stays all JSON: the line below says the same
        print(f"upgrade-deps serve: listening on http://{host}:{port} as {app_info.bot_login}", flush=True)
    log.info("listening", extra={"url": f"http://{host}:{port}", "app": app_info.bot_login,
                                 "status_page": hooks.status is not None})  # fmt: skip
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await web_runner.cleanup()
        if workers is not None:
            await workers.stop()
        store.close()
        pages.close()
    return 0


def secrets_of(settings: Settings) -> tuple[str, ...]:
    """What the logs must never show, should any message carry it."""
    return (settings.webhook_secret, settings.private_key, settings.status_token)


def _reexec(settings: Settings, args: Namespace) -> NoReturn:
    """Become a process (same pid) whose environment and command line hold no secret."""
    fd = hand_over(settings)
    argv = [sys.executable, "-m", "bot.cli", "serve", "--host", args.host, "--port", str(args.port),
            "--settings-fd", str(fd)]  # fmt: skip
    if args.workers is not None:
        argv += ["--workers", str(args.workers)]
    sys.stdout.flush()
    sys.stderr.flush()
    # Our own interpreter and module, a fixed command line; the secrets follow through the descriptor.
    os.execve(sys.executable, argv, without_secrets(settings))  # noqa: S606 - no shell wanted


def main(args: Namespace) -> int:
    try:
        if args.settings_fd is None:
            _reexec(from_process(), args)
        settings = taken_over(args.settings_fd)
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"upgrade-deps serve: {problem}", file=sys.stderr)
        return 2
    settings = dataclasses.replace(settings, workers=worker_count(settings, args.workers))
    if not settings.workers and not settings.db_url:
        print("upgrade-deps serve: with the SQLite job store, only this server runs jobs: --workers must be"
              " at least 1", file=sys.stderr)  # fmt: skip
        return 2
    configure(fmt=settings.log_format, level=settings.log_level, secrets=secrets_of(settings))
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(serve(settings, args.host, args.port))
    return 0
