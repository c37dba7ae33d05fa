"""The status page through the real app and job store: off without a token, refused without it, and
the page it renders (a golden file), every value HTML-escaped."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.service import jobspec
from bot.service.commands import parse_command
from bot.service.inbox import Inbox
from bot.service.jobs import JobStore
from bot.service.ledger import Timing
from bot.service.server import GroupCommit, Hooks, make_app
from bot.service.status_page import COOKIE, Health, StatusPage, authorised, duration, session_value
from bot.service.store_view import QueueView
from handlers.intake import AppIdentity
from tests.support.golden import assert_golden
from tests.support.webhooks import SECRET

TOKEN = "status-token-0123456789abcdef"
NOW = 1_800_000_000.0
GOLDEN = Path(__file__).parent / "golden"


def command(repo: str, number: int, words: list[str], *, pull: bool = False) -> str:
    target = jobspec.JobTarget(installation=1, repo=repo, clone_url=f"https://github.com/{repo}.git",
                               default_branch="main")  # fmt: skip
    spec = jobspec.Command(target, number=number, is_pull=pull, comment_id=5, author="alice",
                           asked=parse_command(words), title="t")  # fmt: skip
    return jobspec.dumps(spec)


def jobs(db: Path) -> None:
    store = JobStore(db)
    first = store.add(
        delivery="d1", subject="o/r#3", kind="command", spec=command("o/r", 3, ["sglang==0.5.10"])
    )
    second = store.add(
        delivery="d2", subject="o/r#4", kind="command", spec=command("o/r", 4, ["help"], pull=True)
    )
    store.add(delivery="d3", subject="o/x#5", kind="command", spec=command("o/x", 5, ["numpy==2.3.5"]))
    for _ in range(2):
        job = store.claim(now=NOW)
        assert job is not None
    store.finish(first or 0, "failed", "uv said <script>alert(1)</script>")
    ledger = store.ledger(first or 0)
    ledger.set_timing(Timing(NOW - 75, NOW - 3, "failure", "failed"))
    ledger.set_check_id("a" * 40, 777)
    store.ledger(second or 0).set_timing(Timing(NOW - 2))
    store.close()
    with sqlite3.connect(db) as conn:  # fixed delivery times, for a page that is the same every run
        conn.execute("UPDATE jobs SET created = ? - 100 + id", (NOW,))


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    db = tmp_path / "jobs.sqlite3"
    jobs(db)
    inbox = Inbox(db)
    page = StatusPage(token=TOKEN, view=QueueView(db), web_host="github.com", clock=lambda: NOW,
                      health=lambda: Health(NOW - 3700, True, 1, "upgrade-deps[bot]"))  # fmt: skip
    app = make_app(
        Hooks(SECRET, inbox, AppIdentity(1, "upgrade-deps[bot]"), None, GroupCommit(inbox), status=page)
    )
    async with TestClient(TestServer(app)) as test_client:
        yield test_client
    inbox.close()


async def test_off_without_a_token(tmp_path: Path) -> None:
    db = tmp_path / "jobs.sqlite3"
    JobStore(db).close()
    inbox = Inbox(db)
    app = make_app(Hooks(SECRET, inbox, AppIdentity(1, "upgrade-deps[bot]"), None, GroupCommit(inbox)))
    async with TestClient(TestServer(app)) as test_client:
        assert (await test_client.get("/status")).status == 404
        assert (await test_client.post("/status/login", data={"token": ""})).status == 404
    inbox.close()


async def test_refused_without_the_token(client: TestClient[web.Request, web.Application]) -> None:
    answer = await client.get("/status")
    text = await answer.text()
    assert answer.status == 401 and "o/r" not in text and 'name="token"' in text
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = await client.get("/status", headers={"Authorization": f"Bearer {TOKEN}x"})
    assert wrong.status == 401
    forged = await client.get("/status", cookies={COOKIE: TOKEN})  # the token is not the session
    assert forged.status == 401
    failed = await client.post("/status/login", data={"token": TOKEN[:-1]})
    assert failed.status == 401 and "That is not the status token." in await failed.text()
    assert COOKIE not in failed.cookies


async def test_bearer_and_login_show_the_page(client: TestClient[web.Request, web.Application]) -> None:
    shown = await client.get("/status", headers={"Authorization": f"Bearer {TOKEN}"})
    assert shown.status == 200 and shown.headers["Cache-Control"] == "no-store"
    assert_golden(await shown.text(), GOLDEN / "status-page.html")
    signed = await client.post("/status/login", data={"token": TOKEN}, allow_redirects=False)
    assert signed.status == 303 and signed.headers["Location"] == "/status"
    cookie = signed.cookies[COOKIE]
    assert cookie.value == session_value(TOKEN) and cookie["httponly"] and cookie["samesite"] == "Strict"
    again = await client.get("/status", cookies={COOKIE: cookie.value})
    assert again.status == 200 and "o/x" in await again.text()


def test_authorisation_and_durations() -> None:
    assert authorised({"Authorization": f"bearer {TOKEN}"}, {}, TOKEN)
    assert not authorised({"Authorization": f"Basic {TOKEN}"}, {}, TOKEN)
    assert not authorised({}, {COOKIE: session_value("another-token-entirely")}, TOKEN)
    assert [duration(s) for s in (None, 0.25, 61, 3725)] == ["—", "0.2 s", "1 min 01 s", "1 h 02 min"]


async def test_a_server_without_workers_says_who_runs_the_jobs(tmp_path: Path) -> None:
    db = tmp_path / "jobs.sqlite3"
    jobs(db)
    inbox = Inbox(db)
    health = Health(NOW - 5, False, 0, "upgrade-deps[bot]", workers_here=False)
    page = StatusPage(token=TOKEN, view=QueueView(db), web_host="github.com", clock=lambda: NOW,
                      health=lambda: health)  # fmt: skip
    app = make_app(Hooks(SECRET, inbox, AppIdentity(1, "upgrade-deps[bot]"), None, GroupCommit(inbox),
                         status=page))  # fmt: skip
    async with TestClient(TestServer(app)) as test_client:
        shown = await test_client.get("/status", headers={"Authorization": f"Bearer {TOKEN}"})
        text = await shown.text()
    inbox.close()
    assert shown.status == 200
    assert "none in this server: <code>upgrade-deps worker</code> processes run the jobs" in text
    assert "not running" not in text
