"""The webhook server in-process: what each delivery is answered, what is stored, and `serve` itself."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.service.inbox import Inbox, NewJob
from bot.service.jobs import JobStore
from bot.service.server import GroupCommit, Hooks, make_app, serve
from bot.settings import Settings, load_settings
from handlers.intake import AppIdentity
from tests.fakegithub.loopback import APP_ID
from tests.fakegithub.server import FakeGitHub
from tests.support.appkeys import key_pair
from tests.support.http import free_port, serving
from tests.support.postgres import connections
from tests.support.webhooks import SECRET, headers, payload

COMMAND = payload("issue_comment.created.with-installation")
COMMAND["comment"]["body"] = "/upgrade-deps sglang==0.5.10"


@dataclass
class Endpoint:
    url: str
    store: JobStore
    wakes: list[None] = field(default_factory=list)

    async def post(self, body: bytes, hdrs: dict[str, str]) -> tuple[int, dict[str, Any]]:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.url}/webhook", data=body, headers=hdrs) as response,
        ):
            return response.status, await response.json()

    async def deliver(
        self, event: str, data: Any, *, delivery: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        body = json.dumps(data).encode()
        return await self.post(body, headers(event, body, delivery=delivery))


@pytest.fixture
async def endpoint(tmp_path: Path) -> AsyncIterator[Endpoint]:
    db = tmp_path / "jobs.sqlite3"
    store = JobStore(db)
    inbox = Inbox(db)
    wakes: list[None] = []
    hooks = Hooks(SECRET, inbox, AppIdentity(APP_ID, "upgrade-deps[bot]"), lambda: wakes.append(None),
                  GroupCommit(inbox))  # fmt: skip
    async with serving(make_app(hooks)) as url:
        yield Endpoint(url, store, wakes)
    inbox.close()
    store.close()


def _without(hdrs: dict[str, str], name: str) -> dict[str, str]:
    return {key: value for key, value in hdrs.items() if key != name}


BODY = json.dumps(COMMAND).encode()
REFUSED = [
    ("unsigned", BODY, headers("issue_comment", BODY, secret=None), 401, "missing X-Hub-Signature-256"),
    ("signed with another secret", BODY, headers("issue_comment", BODY, secret="other"), 401,
     "signature does not match"),
    ("signed, then changed", BODY + b" ", headers("issue_comment", BODY), 401, "signature does not match"),
    ("a sha1 signature", BODY, {**headers("issue_comment", BODY), "X-Hub-Signature-256": "sha1=ab"}, 401,
     "is not sha256="),
    ("no event", BODY, _without(headers("issue_comment", BODY), "X-GitHub-Event"), 400,
     "missing X-GitHub-Event header"),
    ("an event name of no shape", BODY, {**headers("issue_comment", BODY), "X-GitHub-Event": "Issue Comment"},
     400, "is not an event name"),
    ("no delivery id", BODY, _without(headers("issue_comment", BODY), "X-GitHub-Delivery"), 400,
     "missing X-GitHub-Delivery header"),
    ("not JSON", b"{", headers("issue_comment", b"{"), 400, "body is not JSON"),
    ("JSON, not an object", b"[1]", headers("issue_comment", b"[1]"), 400, "body is not a JSON object"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "hdrs", "status", "message"), [case[1:] for case in REFUSED],
                         ids=[case[0] for case in REFUSED])  # fmt: skip
async def test_a_delivery_that_is_refused_stores_nothing(
    endpoint: Endpoint, body: bytes, hdrs: dict[str, str], status: int, message: str
) -> None:
    answer = await endpoint.post(body, hdrs)
    assert answer[0] == status and message in answer[1]["message"]
    assert endpoint.store.jobs() == [] and endpoint.wakes == []


async def test_a_command_is_stored_once_and_wakes_the_workers(endpoint: Endpoint) -> None:
    assert await endpoint.deliver("issue_comment", COMMAND, delivery="d-1") == (
        202, {"jobs": [1], "redelivery": False}
    )  # fmt: skip
    # GitHub redelivers with the same id: acknowledged, never a second job.
    assert await endpoint.deliver("issue_comment", COMMAND, delivery="d-1") == (
        202, {"jobs": [], "redelivery": True}
    )  # fmt: skip
    [job] = endpoint.store.jobs()
    assert job.kind == "command" and job.subject == "Codertocat/Hello-World#1" and len(endpoint.wakes) == 2
    async with aiohttp.ClientSession() as session, session.get(f"{endpoint.url}/healthz") as response:
        assert await response.json() == {"ok": True, "jobs": {"queued": 1}, "locked_retries": 0}


async def test_what_the_app_does_not_act_on_is_answered_200(endpoint: Endpoint) -> None:
    assert (await endpoint.deliver("ping", payload("ping.with-app_id")))[1] == {"message": "pong"}
    other = {**COMMAND, "comment": {**COMMAND["comment"], "body": "thanks!"}}
    for event, data in (("issue_comment", other), ("push", {"ref": "refs/heads/main"})):
        assert await endpoint.deliver(event, data) == (200, {"message": "nothing to do for this delivery"})
    assert endpoint.store.jobs() == []


async def test_a_payload_off_its_schema_is_refused_naming_the_field(endpoint: Endpoint) -> None:
    broken = {**COMMAND, "comment": {**COMMAND["comment"], "id": "not a number"}}
    status, answer = await endpoint.deliver("issue_comment", broken)
    assert status == 400 and answer["message"].startswith("issue_comment payload: ")
    assert "$.comment.id" in answer["message"] and endpoint.store.jobs() == []


async def test_a_delivery_that_cannot_be_stored_is_not_acknowledged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Full(Inbox):
        def add_many(self, jobs: Any) -> list[int | None]:
            raise sqlite3.OperationalError("database or disk is full")

    inbox = Full(tmp_path / "jobs.sqlite3")
    hooks = Hooks(SECRET, inbox, AppIdentity(APP_ID, "upgrade-deps[bot]"))  # no group commit: one per request
    async with serving(make_app(hooks)) as url:
        status, answer = await Endpoint(url, JobStore(tmp_path / "jobs.sqlite3")).deliver(
            "issue_comment", COMMAND
        )
    assert status == 503 and "redeliver it later" in answer["message"]
    assert "was not stored: OperationalError: database or disk is full" in caplog.text
    inbox.close()


async def test_a_group_commit_lets_a_bad_row_fail_alone(tmp_path: Path) -> None:
    class Picky(Inbox):
        def add_many(self, jobs: Any) -> list[int | None]:
            if any(job.delivery == "bad" for job in jobs):
                raise ValueError("cannot store this one")
            return super().add_many(jobs)

    commits = GroupCommit(Picky(tmp_path / "jobs.sqlite3"))
    good, bad = (asyncio.create_task(commits.add(NewJob(d, "s", "command", "{}"))) for d in ("good", "bad"))
    assert await good == 1
    with pytest.raises(ValueError, match="cannot store this one"):
        await bad


def settings_for(fake: FakeGitHub, tmp: Path, *, key: str | None = None, db: str = "") -> Settings:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp), "GITHUB_APP_ID": str(APP_ID),
           "GITHUB_PRIVATE_KEY": key or key_pair()[0], "GITHUB_WEBHOOK_SECRET": SECRET,
           "GITHUB_API_URL": fake.url, "UPGRADE_DEPS_DB": db or str(tmp / "jobs.sqlite3"),
           "UPGRADE_DEPS_WORKERS": "1", "UPGRADE_DEPS_SANDBOX_DIR": str(tmp / "sandboxes"),
           "UPGRADE_DEPS_METRICS_DIR": str(tmp / "metrics")}  # fmt: skip
    # On PostgreSQL a replica runs no jobs unless asked, as `serve` decides from its command line.
    return dataclasses.replace(load_settings(env), workers=0) if db else load_settings(env)


async def _listening(server: asyncio.Task[int], capsys: pytest.CaptureFixture[str]) -> str:
    printed = ""
    deadline = time.monotonic() + 60  # a bound for a busy machine, not a timing expectation
    # The line is printed once its signal handlers are about to be installed, with no await between.
    while "listening on" not in printed and time.monotonic() < deadline and not server.done():
        await asyncio.sleep(0.05)
        printed += capsys.readouterr().out
    return printed


async def test_serve_answers_until_terminated_and_stops_its_workers(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    server = asyncio.create_task(serve(settings_for(fake, tmp_path), "127.0.0.1", port))
    printed = await _listening(server, capsys)
    assert f"listening on http://127.0.0.1:{port} as upgrade-deps[bot]" in printed
    body = json.dumps(payload("ping.with-app_id")).encode()
    assert await Endpoint(f"http://127.0.0.1:{port}", JobStore(tmp_path / "jobs.sqlite3")).post(
        body, headers("ping", body)
    ) == (200, {"message": "pong"})  # fmt: skip
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    assert children, "the worker process is not running"

    os.kill(os.getpid(), signal.SIGTERM)  # caught by serve's handler on this loop
    assert await asyncio.wait_for(server, 60) == 0
    for child in children:
        assert not Path(f"/proc/{child}").exists() or "zombie" in Path(f"/proc/{child}/status").read_text()


async def test_serve_refuses_to_start_when_github_does_not_know_the_app(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_key = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    assert await serve(settings_for(fake, tmp_path, key=other_key), "127.0.0.1", free_port()) == 1
    assert "cannot read the app from" in capsys.readouterr().err
    assert fake.errors == ["GET /app: bad app JWT"]
    fake.errors.clear()  # refused on purpose


async def test_serve_on_postgresql_closes_every_connection_it_opened_when_it_stops(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str], pg_url: str
) -> None:
    port = free_port()
    server = asyncio.create_task(serve(settings_for(fake, tmp_path, db=pg_url), "127.0.0.1", port))
    assert "listening on" in await _listening(server, capsys)
    async with aiohttp.ClientSession() as session:
        for page in ("healthz", "metrics"):  # the intake's reader, the queue gauges' own connection
            async with session.get(f"http://127.0.0.1:{port}/{page}") as response:
                assert response.status == 200
    assert connections(pg_url) == 2
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(server, 60) == 0
    assert connections(pg_url) == 0
