"""Header bytes as a client may send them (not only what aiohttp's client writes): 401 or 400, never 500."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bot.service.inbox import Inbox
from bot.service.jobs import JobStore
from bot.service.server import GroupCommit, Hooks, make_app
from handlers.intake import AppIdentity
from tests.support.webhooks import FIXTURES, SECRET, sign

BODY = (FIXTURES / "pull_request.opened.json").read_bytes()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    db = tmp_path / "jobs.sqlite3"
    JobStore(db).close()
    store = Inbox(db)
    test_server = TestServer(make_app(Hooks(SECRET, store, AppIdentity(1, "upgrade-deps[bot]"), None,
                                            GroupCommit(store))))  # fmt: skip
    await test_server.start_server()
    yield test_server
    await test_server.close()
    store.close()


async def raw_post(server: TestServer, headers: list[bytes], body: bytes = BODY) -> int:
    """POST with header lines written byte for byte; the status code of the answer."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    lines = [b"POST /webhook HTTP/1.1", b"Host: x", b"Content-Type: application/json",
             b"Content-Length: %d" % len(body), b"Connection: close", *headers]  # fmt: skip
    writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    writer.close()
    return status


def event(name: bytes = b"pull_request", delivery: bytes = b"d-1") -> list[bytes]:
    return [b"X-GitHub-Event: " + name, b"X-GitHub-Delivery: " + delivery]


async def test_signature_headers_of_any_bytes_are_unauthorised(server: TestServer) -> None:
    right = sign(BODY).encode()
    for signature in (b"sha256=\xc3\xa9" + right[9:], b"sha256=" + b"\xff" * 64, "sha256=é".encode(),
                      b"sha1=" + right[7:47], right.upper(), b"sha256 =" + right[7:], b""):  # fmt: skip
        assert await raw_post(server, [b"X-Hub-Signature-256: " + signature, *event()]) == 401, signature
    twice = [b"X-Hub-Signature-256: " + right] * 2
    assert await raw_post(server, [*twice, *event()]) == 401


async def test_malformed_event_and_delivery_headers_are_bad_requests(server: TestServer) -> None:
    signed = b"X-Hub-Signature-256: " + sign(BODY).encode()
    for headers in (event(delivery="délivery".encode()), event(delivery=b"\xff\xfe"), event(delivery=b"a/1"),
                    event(name=b"pull request"), event(name=b"\xc3\xa9"), [event()[0]], [event()[1]],
                    [*event(), event()[1]]):  # fmt: skip
        assert await raw_post(server, [signed, *headers]) == 400, headers
    assert await raw_post(server, [signed, *event()]) == 202
