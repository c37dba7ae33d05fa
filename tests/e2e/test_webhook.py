"""The real server's webhook endpoint: signatures, headers, bodies, ping, health; start-up refusal."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.harness import ROOT, ServerProcess
from tests.fakegithub.server import FakeGitHub
from tests.support.measured import measured
from tests.support.webhooks import FIXTURES, headers, payload

pytestmark = pytest.mark.slow


async def post(server: ServerProcess, body: bytes, hdrs: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{server.url}/webhook", data=body, headers=hdrs) as response,
    ):
        return response.status


async def test_signatures_headers_and_bodies(fake: FakeGitHub, server: ServerProcess) -> None:
    body = (FIXTURES / "pull_request.opened.json").read_bytes()
    assert await post(server, body, headers("pull_request", body, secret=None)) == 401  # unsigned
    assert await post(server, body, headers("pull_request", body, secret="wrong")) == 401  # mis-signed
    tampered = headers("pull_request", body)
    assert await post(server, body + b" ", tampered) == 401  # body changed after signing
    missing_event = headers("pull_request", body)
    del missing_event["X-GitHub-Event"]
    assert await post(server, body, missing_event) == 400
    missing_delivery = headers("pull_request", body)
    del missing_delivery["X-GitHub-Delivery"]
    assert await post(server, body, missing_delivery) == 400
    assert await post(server, b"not json", headers("pull_request", b"not json")) == 400
    ping = payload("ping.with-app_id")
    status, _ = await server.deliver("ping", ping)
    assert status == 200
    assert (await server.health())["jobs"] == {}  # nothing refused or pinged became a job
    assert await post(server, body, headers("pull_request", body)) == 202
    assert (await server.health())["jobs"] in ({"queued": 1}, {"running": 1}, {"done": 1})


async def test_server_refuses_to_start_without_settings(tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", ""), "GITHUB_PRIVATE_KEY": "not a key", "GITHUB_API_URL": "ftp://x",
           "UPGRADE_DEPS_DB": str(tmp_path / "missing-dir" / "db.sqlite3")}  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "serve", cwd=ROOT, env=measured(env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await process.communicate()
    assert process.returncode == 2
    lines = err.decode().splitlines()
    assert lines == [
        "upgrade-deps serve: GITHUB_APP_ID is required (the numeric id on the app's settings page)",
        "upgrade-deps serve: GITHUB_PRIVATE_KEY: not a PEM private key without passphrase",
        "upgrade-deps serve: GITHUB_WEBHOOK_SECRET is required: unsigned webhooks are never accepted",
        "upgrade-deps serve: GITHUB_API_URL: 'ftp://x' is not an http(s) URL",
        f"upgrade-deps serve: UPGRADE_DEPS_DB: directory {tmp_path / 'missing-dir'} does not exist",
    ]
    assert "not a key" not in err.decode()
