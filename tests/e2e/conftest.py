"""Fixtures for end-to-end tests: the real server process, against the fake GitHub of tests/conftest.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.harness import ServerProcess
from tests.fakegithub.server import FakeGitHub
from tests.support.appkeys import key_pair, key_parts
from tests.support.webhooks import SECRET


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    item.stash[OUTCOME] = report  # type: ignore[assignment]
    return report


OUTCOME = pytest.StashKey[pytest.TestReport]()


@pytest.fixture
async def server(
    fake: FakeGitHub, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[ServerProcess]:
    process = ServerProcess(api_url=fake.url, tmp=tmp_path)
    await process.start()
    yield process
    await process.stop()
    log = process.log.read_text()
    report = request.node.stash.get(OUTCOME, None)
    if report is not None and report.failed:
        # The server runs in another process: its log is the only account of what it did.
        print(f"--- server log of {request.node.name}:\n{log[-8000:]}")
    assert "ghs_fake" not in log, "an installation token reached the server log"
    leaked = [s for s in (SECRET, *key_parts(key_pair()[0])) if s in log]
    assert leaked == [], "the webhook secret or the private key reached the server log"
