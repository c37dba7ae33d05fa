"""`GET /status`: recent jobs, the queue and the service's health, behind a token (bearer or login form)."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.service.store_view import JobView, StoreView
from bot.text.render import render_html

COOKIE = "upgrade_deps_status"
SESSION_HOURS = 12
# No script, nothing from elsewhere, not framed: the page only shows text and one form.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class Health:
    """What the server knows of itself and its worker process."""

    started: float  # epoch seconds
    workers_running: bool
    worker_restarts: int
    bot_login: str
    workers_here: bool = True  # False: this server runs no jobs (`upgrade-deps worker` processes do)


@dataclass(frozen=True)
class Row:
    """A job as one row of the table: every value already a display string or a link."""

    id: int
    repo: str
    target: str  # "#12"
    target_url: str
    request: str
    state: str
    conclusion: str
    duration: str
    check_url: str
    when: str
    error: str


def session_value(token: str) -> str:
    """The cookie the login form sets: derived from the token, so the token itself is never stored."""
    return hmac.new(token.encode(), b"upgrade-deps status session", hashlib.sha256).hexdigest()


def authorised(headers: Mapping[str, str], cookies: Mapping[str, str], token: str) -> bool:
    """A bearer token or the login cookie, each compared in constant time."""
    scheme, _, given = headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return True
    cookie = cookies.get(COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), session_value(token).encode())


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _utc(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def row(job: JobView, *, web_host: str, now: float) -> Row:
    base = f"https://{web_host}/{job.repo}"
    timing = job.timing
    seconds = None
    if timing is not None:
        seconds = (timing.ended if timing.ended is not None else now) - timing.started
    target = f"#{job.number}" if job.number is not None else "—"
    path = "pull" if job.is_pull else "issues"
    return Row(
        id=job.id, repo=job.repo, target=target,
        target_url=f"{base}/{path}/{job.number}" if job.number is not None else "",
        request=job.request, state=job.state,
        conclusion=job.conclusion if job.conclusion not in (None, "none") else "—",  # "none": no check run
        duration=duration(seconds) + (" so far" if timing and timing.ended is None else ""),
        check_url=f"{base}/runs/{job.check_run}" if job.check_run is not None else "",
        when=_utc(job.created), error=(job.error or "")[:300],
    )  # fmt: skip


class StatusPage:
    """The page and its login; off (404) unless the operator set a token."""

    def __init__(
        self, *, token: str, view: StoreView, health: Callable[[], Health], web_host: str,
        clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.token = token
        self.view = view
        self.health = health
        self.web_host = web_host
        self.clock = clock

    def routes(self, app: web.Application) -> None:
        if not self.token:
            return  # no token, no page: it names the repositories of private installations
        app.router.add_get("/status", self.page)
        app.router.add_post("/status/login", self.login)

    def _html(self, template: str, status: int = 200, **values: Any) -> web.Response:
        return web.Response(text=render_html(template, **values), status=status, content_type="text/html",
                            headers=HEADERS)  # fmt: skip

    async def page(self, request: web.Request) -> web.Response:
        if not authorised(request.headers, request.cookies, self.token):
            response = self._html("status-login.html.j2", 401, wrong=False)
            response.headers["WWW-Authenticate"] = 'Bearer realm="upgrade-deps status"'
            return response
        now = self.clock()
        # On a thread: a PostgreSQL store's answer takes a round trip the webhooks must not wait for.
        queue, recent = await asyncio.to_thread(lambda: (self.view.queue(), self.view.recent()))
        counts: dict[str, int] = {}
        for (state, _), n in queue.by_state_kind.items():
            counts[state] = counts.get(state, 0) + n
        oldest = None if queue.oldest_queued is None else duration(max(0.0, now - queue.oldest_queued))
        rows = [row(job, web_host=self.web_host, now=now) for job in recent]
        health = self.health()
        return self._html("status-page.html.j2", rows=rows, counts=counts, oldest=oldest, health=health,
                          up=duration(now - health.started), now=_utc(now))  # fmt: skip

    async def login(self, request: web.Request) -> web.Response:
        form = await request.post()
        given = str(form.get("token", ""))
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return self._html("status-login.html.j2", 401, wrong=True)
        response = web.Response(status=303, headers={**HEADERS, "Location": "/status"})
        secure = request.secure or request.headers.get("X-Forwarded-Proto", "") == "https"
        response.set_cookie(COOKIE, session_value(self.token), max_age=SESSION_HOURS * 3600, path="/status",
                            httponly=True, samesite="Strict", secure=secure)  # fmt: skip
        return response
