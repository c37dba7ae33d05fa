"""The operator's pages beside the webhook: `/`, `/metrics` and, with its token set, `/status`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from bot.service.metrics import CONTENT_TYPE, Metrics, scrape
from bot.service.status_page import Health, StatusPage
from bot.service.store_view import PgQueueView, QueueView, StoreView
from bot.service.workerproc import WorkerProcess
from bot.settings import Settings, multiprocess_dir
from bot.text.render import render

Handler = Callable[[web.Request], Awaitable[web.Response]]


@dataclass(frozen=True)
class OperatorPages:
    """What the operator's pages read: the metrics scrape and the status page (None: not served)."""

    scrape: Callable[[], bytes] | None = None
    status: StatusPage | None = None
    view: StoreView | None = None  # what both read; its connection is closed when the server stops

    def close(self) -> None:
        if self.view is not None:
            self.view.close()


def pages_of(
    settings: Settings, *, workers: WorkerProcess | None, bot_login: str, metrics: Metrics
) -> OperatorPages:
    """The pages of a running service: metrics always, the status page only when its token is set.

    `workers` is None when this server runs no jobs (PostgreSQL, `upgrade-deps worker` elsewhere).
    """
    view: StoreView = PgQueueView(settings.db_url) if settings.db_url else QueueView(settings.db_path)
    started = time.time()

    def health() -> Health:
        if workers is None:
            return Health(started, False, 0, bot_login, workers_here=False)
        return Health(started, workers.running(), workers.restarts, bot_login)

    status = None
    if settings.status_token:
        status = StatusPage(token=settings.status_token, view=view, health=health, web_host=settings.git_host)
    multiprocess = multiprocess_dir(settings.environ)
    return OperatorPages(scrape=lambda: scrape(metrics, view, multiprocess=multiprocess), status=status,
                         view=view)  # fmt: skip


def add_routes(app: web.Application, pages: OperatorPages) -> None:
    """`/` always; `/metrics` and `/status` when there is something to serve there."""
    shown = {"metrics": pages.scrape is not None, "status": pages.status is not None}

    async def index(_: web.Request) -> web.Response:
        return web.Response(text=render("server-index.txt.j2", **shown))

    app.router.add_get("/", index)
    if pages.scrape is not None:
        app.router.add_get("/metrics", _metrics_handler(pages.scrape))
    if pages.status is not None:
        pages.status.routes(app)


def _metrics_handler(read: Callable[[], bytes]) -> Handler:
    async def metrics(_: web.Request) -> web.Response:
        data = await asyncio.to_thread(read)  # reads the job store and the metric files
        return web.Response(body=data, headers={"Content-Type": CONTENT_TYPE})

    return metrics
