"""Shared pytest fixtures."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.isolation import Isolation
from bot.isolation_host import local_isolation
from tests.support.repos import GIT_ENV


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Commits made by the code under test need an author on a machine with no git config."""
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    yield


@pytest.fixture
def environ() -> dict[str, str]:
    return dict(os.environ)


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def isolation() -> Isolation:
    """The sandbox every pipeline test runs uv and verification commands in: required, never skipped."""
    found = asyncio.run(local_isolation(dict(os.environ), policy="require"))
    assert found.mode == "bwrap", f"the tests need a working bubblewrap: {found.reason}"
    return found
