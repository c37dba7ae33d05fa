"""Shared pytest fixtures."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from bot.tools.isolation import Isolation
from bot.tools.isolation_host import local_isolation
from tests.fakegithub.loopback import running_fake
from tests.fakegithub.server import FakeGitHub
from tests.support.postgres import Cluster, running_cluster
from tests.support.repos import GIT_ENV

# Property-based tests: CI runs a fixed, derandomized set (the same examples every run, so a failure
# reproduces); `pytest --hypothesis-profile=more` runs ten times as many, freshly random each time.
EXAMPLES = 2_500


def examples(share: float) -> int:
    """`share` of the loaded profile's examples, for a test costlier or cheaper than the others."""
    return max(1, round(settings.default.max_examples * share))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    common = {"deadline": None, "print_blob": True, "suppress_health_check": [HealthCheck.too_slow]}
    settings.register_profile("ci", max_examples=EXAMPLES, derandomize=True, database=None, **common)
    settings.register_profile("more", max_examples=10 * EXAMPLES, **common)
    if not config.getoption("hypothesis_profile", None):
        settings.load_profile("ci")


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commits made by the code under test need an author on a machine with no git config."""
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def environ() -> dict[str, str]:
    return dict(os.environ)


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
async def fake() -> AsyncIterator[FakeGitHub]:
    """The fake GitHub on loopback, for every test that talks to GitHub: a refused request fails the test."""
    async with running_fake() as fake:
        yield fake


@pytest.fixture(scope="session")
def isolation() -> Isolation:
    """The sandbox every pipeline test runs uv and verification commands in: required, never skipped."""
    found = asyncio.run(local_isolation(dict(os.environ), policy="require"))
    assert found.mode == "bwrap", f"the tests need a working bubblewrap: {found.reason}"
    return found


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """One throwaway PostgreSQL cluster for the session (tests that restart it start their own)."""
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture
def pg_url(postgres: Cluster) -> str:
    """A fresh database in the session's cluster, with the job store's schema."""
    from bot.service.pgconn import Database
    from bot.service.pgschema import migrate

    url = postgres.create_database()
    db = Database(url)
    migrate(db, at_start=True)
    db.close()
    return url
