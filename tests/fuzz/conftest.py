"""The real webhook endpoint (`server.accept`) on loopback, with a real inbox, for the fuzz tests."""

from __future__ import annotations

import itertools
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.service.inbox import Inbox, inbox_path
from bot.service.jobs import JobStore
from bot.service.server import GroupCommit, Hooks, make_app
from handlers.intake import AppIdentity
from tests.support.webhooks import SECRET

APP = AppIdentity(app_id=29310, bot_login="upgrade-deps[bot]")  # the app of check_suite.rerequested


class Problems(logging.Handler):
    """Keeps every warning, error and traceback anything logs (aiohttp logs a handler's exception)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Endpoint:
    client: TestClient
    inbox: sqlite3.Connection
    problems: Problems
    ids: Iterator[int] = field(default_factory=itertools.count)
    seen: int = 0

    def delivery(self) -> str:
        return f"fuzz-{next(self.ids)}"

    async def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        async with self.client.post("/webhook", data=body, headers=headers) as response:
            return response.status, await response.json(content_type=None)

    def new_rows(self) -> list[tuple[str, str]]:
        """(kind, spec) of the deliveries stored since the last call."""
        rows = self.inbox.execute("SELECT id, kind, spec FROM deliveries WHERE id > ? ORDER BY id",
                                  (self.seen,)).fetchall()  # fmt: skip
        if rows:
            self.seen = rows[-1][0]
        return [(kind, spec) for _, kind, spec in rows]


@pytest.fixture
async def endpoint(tmp_path: Path) -> AsyncIterator[Endpoint]:
    db = tmp_path / "jobs.sqlite3"
    JobStore(db).close()
    store = Inbox(db)
    hooks = Hooks(SECRET, store, APP, None, GroupCommit(store))
    problems = Problems()
    logging.getLogger().addHandler(problems)
    client = TestClient(TestServer(make_app(hooks)))
    await client.start_server()
    reader = sqlite3.connect(inbox_path(db), isolation_level=None)
    try:
        yield Endpoint(client, reader, problems)
    finally:
        reader.close()
        await client.close()
        store.close()
        logging.getLogger().removeHandler(problems)
