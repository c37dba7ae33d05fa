"""Operating the real server: JSON logs, /metrics summed over its processes, /status behind its token."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.commands import REQUEST, issue_comment, origin
from tests.e2e.harness import ServerProcess
from tests.fakegithub.server import FakeGitHub
from tests.support.appkeys import key_pair, key_parts
from tests.support.webhooks import SECRET

pytestmark = pytest.mark.slow
TOKEN = "status-token-for-the-tests-0123456789"


@pytest.fixture
async def operated(fake: FakeGitHub, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    """The real server logging JSON, with its status page on."""
    server = ServerProcess(api_url=fake.url, tmp=tmp_path)
    server.env.update(UPGRADE_DEPS_LOG_FORMAT="json", UPGRADE_DEPS_LOG_LEVEL="INFO",
                      UPGRADE_DEPS_STATUS_TOKEN=TOKEN)  # fmt: skip
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
        print(f"--- server log:\n{server.log.read_text()[-6000:]}")
    log = server.log.read_text()
    secrets = ["ghs_fake", SECRET, TOKEN, *key_parts(key_pair()[0])]
    assert [s for s in secrets if s in log] == [], "a token or secret reached the JSON log"


def records(server: ServerProcess) -> list[dict[str, Any]]:
    """Every line of the log, each of which must be one JSON object."""
    lines = server.log.read_text().splitlines()
    parsed = [json.loads(line) for line in lines if line.strip()]
    assert all(
        isinstance(item, dict) and {"time", "level", "logger", "message"} <= set(item) for item in parsed
    )
    return parsed


async def get(server: ServerProcess, path: str, **kw: Any) -> tuple[int, str, aiohttp.ClientResponse]:
    async with aiohttp.ClientSession() as session, session.get(f"{server.url}{path}", **kw) as response:
        return response.status, await response.text(), response


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition, its labels in any order."""
    for line in metrics.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match:
            found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(match.group(2))
    raise AssertionError(f"no sample {name} {labels} in:\n{metrics}")


async def test_a_job_in_the_logs_the_metrics_and_the_status_page(
    fake: FakeGitHub, operated: ServerProcess, tmp_path: Path
) -> None:
    repo = origin(fake, tmp_path)
    fake.roles["Codertocat"] = "write"
    status, answer = await operated.deliver("issue_comment", issue_comment(repo, f"/upgrade-deps {REQUEST}"),
                                            delivery="delivery-ops-1")  # fmt: skip
    assert status == 202
    unsigned, _ = await operated.deliver(
        "issue_comment", issue_comment(repo, "/upgrade-deps help"), secret="no"
    )
    assert unsigned == 401
    await operated.idle()

    log = records(operated)
    [accepted] = [r for r in log if r["message"] == "delivery accepted"]
    assert accepted | {"ms": 0} == accepted | {
        "event": "issue_comment", "action": "created", "delivery": "delivery-ops-1", "ms": 0,
        "repository": "Codertocat/Hello-World", "outcome": "accepted", "status": 202, "jobs": answer["jobs"],
    }  # fmt: skip
    [refused] = [r for r in log if r["message"] == "delivery refused"]
    assert (refused["status"], refused["event"], refused["reason"]) == (
        401,
        "issue_comment",
        "signature does not match",
    )
    [started] = [r for r in log if r["message"] == "job started"]
    [ended] = [r for r in log if r["message"] == "job ended"]
    assert started["job_id"] == ended["job_id"] == answer["jobs"][0] and started["kind"] == "command"
    assert (
        started["request"] == ended["request"] == REQUEST and ended["subject"] == "Codertocat/Hello-World#1"
    )
    assert ended["conclusion"] == "failure" and ended["exit"] == "done" and ended["seconds"] > 0
    assert not any("exc_info" in r for r in log)  # no bug, so no traceback

    # The job ran in the worker process, the deliveries in the server: one scrape shows both.
    code, metrics, response = await get(operated, "/metrics")
    assert code == 200 and response.headers["Content-Type"].startswith("text/plain")
    assert sample(metrics, "upgrade_deps_jobs_total", kind="command", conclusion="failure") == 1
    assert sample(metrics, "upgrade_deps_deliveries_total", event="issue_comment", outcome="accepted") == 1
    assert sample(metrics, "upgrade_deps_deliveries_total", event="unsigned", outcome="refused") == 1
    assert sample(metrics, "upgrade_deps_intake_seconds_count") == 2
    assert sample(metrics, "upgrade_deps_job_seconds_count", kind="command") == 1
    assert sample(metrics, "upgrade_deps_step_seconds_count", step="lock") == 2  # one per variant
    assert sample(metrics, "upgrade_deps_step_seconds_count", step="audit") == 1
    assert sample(metrics, "upgrade_deps_step_seconds_count", step="push") == 1
    assert sample(metrics, "upgrade_deps_github_calls_total", method="POST", status="201") >= 3
    assert 0 < sample(metrics, "upgrade_deps_github_rate_limit_remaining", installation="1") < 5000
    assert sample(metrics, "upgrade_deps_queue_oldest_seconds") == 0
    assert sample(metrics, "upgrade_deps_jobs_stored", state="done", kind="command") == 1

    # The status page: refused without its token, shown with it.
    code, page, response = await get(operated, "/status")
    assert code == 401 and 'name="token"' in page and "Codertocat" not in page
    code, page, _ = await get(operated, "/status", headers={"Authorization": "Bearer not-the-token"})
    assert code == 401 and "Codertocat" not in page
    code, page, response = await get(operated, "/status", headers={"Authorization": f"Bearer {TOKEN}"})
    assert code == 200 and "Codertocat/Hello-World" in page and REQUEST in page
    # Links go to the GitHub the app belongs to: here the fake's host.
    assert 'href="https://127.0.0.1/Codertocat/Hello-World/issues/1"' in page
    [run] = fake.check_runs
    assert f'href="https://127.0.0.1/Codertocat/Hello-World/runs/{run}"' in page
    assert response.headers["Cache-Control"] == "no-store" and "script-src" not in response.headers.get(
        "Content-Security-Policy", "script-src"
    )
    # The pull request's body carries the release notes; the example's wheels come from a local
    # directory, which has no index to read links from: said so, nothing made up.
    [pull] = fake.pulls.values()
    notes = pull["body"].split("### Release Notes", 1)[1].split("### Dependency Resolution", 1)[0]
    assert "#### sglang 0.5.9 → 0.5.10" in notes and "#### transformers " in notes
    assert notes.count("_No release notes: unknown: it does not come from a package index") >= 2
    code, index, _ = await get(operated, "/")
    assert code == 200 and "/metrics" in index and "/status" in index
