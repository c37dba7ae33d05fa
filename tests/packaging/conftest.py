"""The fake GitHub for the packaging tests, as the end-to-end tests start it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.e2e.harness import start_fake
from tests.fakegithub.server import FakeGitHub


@pytest.fixture
async def fake() -> AsyncIterator[FakeGitHub]:
    fake, runner = await start_fake()
    yield fake
    await runner.cleanup()
    assert fake.errors == [], "requests the REST description does not allow:\n" + "\n".join(fake.errors)
