"""Step 7: verification commands that pass, fail, time out or are skipped, in the real shell."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bot.files.config import parse_config
from bot.pipeline.verify import run_verify, verify_unresolved
from bot.tools.isolation import SANDBOX_HOME, Isolation

ENVIRON = {"PATH": os.defpath + ":/usr/local/bin", "HOME": "/nonexistent", "GITHUB_TOKEN": "ghs_secret123"}


def _config(*commands: dict[str, object]) -> object:
    return parse_config({"verify": list(commands)})


async def test_commands_run_in_order_in_the_work_tree_and_report_each_ending(
    tmp_path: Path, isolation: Isolation
) -> None:
    config = _config(
        {"name": "first", "run": "pwd > order.txt"},
        {"name": "lint", "run": "for i in $(seq 1 80); do echo line $i; done; exit 3"},
        {"name": "slow", "run": "echo started; sleep 30", "timeout": 0.5},
        {"name": "last", "run": "echo last >> order.txt"},
    )
    started = time.monotonic()
    results = await run_verify(
        tmp_path, config, ["default"], environ=ENVIRON, trusted=True, isolation=isolation
    )  # type: ignore[arg-type]
    assert time.monotonic() - started < 20
    assert [(r.name, r.status) for r in results] == [
        ("first", "pass"), ("lint", "fail"), ("slow", "timeout"), ("last", "pass"),
    ]  # fmt: skip
    assert (tmp_path / "order.txt").read_text() == f"{tmp_path}\nlast\n"
    lint = results[1].detail.splitlines()
    assert len(lint) == 50 and lint[0] == "line 31" and lint[-1] == "line 80"
    assert results[2].detail == "started\ndid not finish within 0.5 s and was stopped"
    unresolved = verify_unresolved(results)
    assert [(u.kind, u.blocking) for u in unresolved] == [("verify", False), ("verify", False)]
    assert unresolved[0].message.startswith('verification command "lint" failed')
    assert unresolved[1].message.startswith('verification command "slow" timed out')


async def test_commands_see_only_the_allow_listed_environment(tmp_path: Path, isolation: Isolation) -> None:
    config = _config({"name": "env", "run": 'echo "token=${GITHUB_TOKEN:-absent} home=$HOME"; exit 1'})
    (result,) = await run_verify(
        tmp_path, config, ["default"], environ=ENVIRON, trusted=True, isolation=isolation
    )  # type: ignore[arg-type]
    # HOME is the sandbox's own empty directory, never the service user's.
    assert result.detail == f"token=absent home={SANDBOX_HOME}"


async def test_untrusted_runs_run_nothing(tmp_path: Path, isolation: Isolation) -> None:
    config = _config({"name": "touch", "run": "touch ran"})
    (result,) = await run_verify(
        tmp_path, config, ["default"], environ=ENVIRON, trusted=False, isolation=isolation
    )  # type: ignore[arg-type]
    assert (result.status, result.detail) == (
        "skipped", "not run: repository commands never run for pull requests from forks",
    )  # fmt: skip
    assert not (tmp_path / "ran").exists()
    assert verify_unresolved([result]) == []


async def test_commands_for_other_variants_are_skipped(tmp_path: Path, isolation: Isolation) -> None:
    config = _config(
        {"name": "vllm-smoke", "run": "touch vllm", "variants": ["vllm"]},
        {"name": "sglang-smoke", "run": "touch sglang", "variants": ["sglang", "other"]},
    )
    results = await run_verify(
        tmp_path, config, ["sglang"], environ=ENVIRON, trusted=True, isolation=isolation
    )  # type: ignore[arg-type]
    assert [(r.name, r.status) for r in results] == [("vllm-smoke", "skipped"), ("sglang-smoke", "pass")]
    assert results[0].detail == "not run: configured for vllm; this upgrade changed sglang"
    assert (tmp_path / "sglang").exists() and not (tmp_path / "vllm").exists()
