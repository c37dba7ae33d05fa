"""Pytest fixtures shared by the container tests: a loopback registry with images, and a client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from bot.containers.registry import RegistryClient
from tests.support.registry import Registry, run_registry


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """The reference registry with `lmsysorg/sglang:v0.5.11-runtime` (its cu130 runtime image is not
    published) and `acme/base:2.10.0-cuda12`."""
    with run_registry(tmp_path_factory.mktemp("registry")) as running:
        running.push("lmsysorg/sglang", "v0.5.11-runtime")
        running.push("acme/base", "2.10.0-cuda12")
        yield running


@pytest.fixture
async def client() -> AsyncIterator[RegistryClient]:
    async with aiohttp.ClientSession() as session:
        yield RegistryClient(session=session, timeout=5)
