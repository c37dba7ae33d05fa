"""Fixtures for the service's tests: the real GitHub client, talking to the fake GitHub."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.service.github import GitHub
from tests.fakegithub.loopback import APP_ID
from tests.fakegithub.server import FakeGitHub
from tests.support.appkeys import key_pair


@pytest.fixture
async def github(fake: FakeGitHub) -> AsyncIterator[GitHub]:
    async with aiohttp.ClientSession() as session:
        yield GitHub(session, app_id=str(APP_ID), private_key=key_pair()[0], api_url=fake.url)
