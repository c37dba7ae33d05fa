"""Crash windows through the real server: killed after GitHub (or the remote) applied an effect and
before the service could record it, restarted, the final state is the uninterrupted run's."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.crashes import (
    BREAKING_CALLS,
    ISSUE,
    JOB_TIMEOUT,
    PULL,
    REVERT,
    PushHook,
    Scenario,
    crash_and_restart,
    final_state,
    start,
    uninterrupted,
)
from tests.e2e.harness import ServerProcess
from tests.fakegithub.holds import Hold
from tests.fakegithub.server import FakeGitHub

pytestmark = pytest.mark.slow
Baselines = dict[str, dict[str, Any]]


@pytest.fixture(scope="session")
def baselines() -> Baselines:
    """Uninterrupted runs, one per scenario, computed by the first test that needs one."""
    return {}


async def expected(
    scenario: Scenario, baselines: Baselines, factory: pytest.TempPathFactory
) -> dict[str, Any]:
    if scenario.name not in baselines:
        tmp = factory.mktemp(f"uninterrupted-{scenario.name}")
        baselines[scenario.name] = await uninterrupted(scenario, tmp)
    return baselines[scenario.name]


async def crash_after_github(
    scenario: Scenario, fake: FakeGitHub, server: ServerProcess, tmp: Path, hold: Hold
) -> dict[str, Any]:
    repo = await start(scenario, fake, server, tmp)
    await crash_and_restart(server, asyncio.wait_for(hold.arrived.wait(), JOB_TIMEOUT), hold.release)
    return final_state(fake, repo, scenario)


def nth(n: int) -> Any:
    seen: list[Any] = []
    return lambda body: seen.append(body) or len(seen) == n


def completes(conclusion: str) -> Any:
    return lambda body: body.get("conclusion") == conclusion


def annotations_only(body: Any) -> bool:
    return "conclusion" not in body and len(body.get("output", {}).get("annotations", [])) == 50


# (scenario, operation held once applied, which request of it)
WINDOWS = {
    "check run created": (PULL, "checks/create", nth(1)),
    "check run of the pushed head created": (PULL, "checks/create", nth(2)),
    "annotations sent": (PULL, "checks/update", annotations_only),
    "check run completed": (PULL, "checks/update", completes("failure")),
    "summary comment created": (PULL, "issues/create-comment", lambda body: True),
    "review posted": (PULL, "pulls/create-review", lambda body: True),
    "reaction created": (ISSUE, "reactions/create-for-issue-comment", lambda body: True),
    "pull request opened": (ISSUE, "pulls/create", lambda body: True),
    "reply created": (ISSUE, "issues/create-comment", lambda body: True),
}


@pytest.mark.parametrize("window", list(WINDOWS))
async def test_crash_after_github_applied_an_effect(
    window: str, fake: FakeGitHub, server: ServerProcess, tmp_path: Path, baselines: Baselines,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:  # fmt: skip
    scenario, operation, when = WINDOWS[window]
    want = await expected(scenario, baselines, tmp_path_factory)
    hold = fake.hold_after(operation, when)
    assert await crash_after_github(scenario, fake, server, tmp_path, hold) == want


@pytest.mark.parametrize("scenario", [PULL, REVERT], ids=["upgrade push", "revert push"])
async def test_crash_after_the_push_reached_the_remote(
    scenario: Scenario, fake: FakeGitHub, server: ServerProcess, tmp_path: Path, baselines: Baselines,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:  # fmt: skip
    want = await expected(scenario, baselines, tmp_path_factory)
    repo = await scenario.prepare(fake, server, tmp_path)
    hook = PushHook(repo, tmp_path)
    event, data = scenario.delivery(repo)
    assert (await server.deliver(event, data, delivery=f"under-test-{scenario.name}"))[0] == 202
    await crash_and_restart(server, hook.arrived(), hook.release)
    assert final_state(fake, repo, scenario) == want


async def test_uninterrupted_runs_are_what_the_windows_are_compared_with(
    baselines: Baselines, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The comparisons above mean something: each effect is in the uninterrupted state, once."""
    pull = await expected(PULL, baselines, tmp_path_factory)
    subjects = [subject for _, subject in pull["commits"]]
    assert subjects.count("Pin sglang 0.5.10, transformers 4.57.1") == 1
    assert [(run[0], run[3]) for run in pull["check runs"]] == [
        ("Re-lock sglang, vllm after the upgrade", "failure"),
        ("Use four GPUs", "neutral"),
    ]
    assert len(pull["check runs"][0][7]) == BREAKING_CALLS + 1 and len(pull["comments"]) == 1
    assert len(pull["review comments"]) == 1 and len(pull["reactions"]) == 1
    issue = await expected(ISSUE, baselines, tmp_path_factory)
    assert len(issue["pulls"]) == 1 and len(issue["comments"]) == 1 and len(issue["check runs"]) == 1
    revert = await expected(REVERT, baselines, tmp_path_factory)
    assert [n for n, body in revert["comments"] if "Reverted 3 commits of mine" in body] == [1]
