"""What child processes get from us: the environment, their process group, session and priority."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.tools.proc import child_env, run

SECRETS = {
    "GITHUB_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----",
    "GITHUB_WEBHOOK_SECRET": "hook-secret",
    "GITHUB_TOKEN": "ghs_token",
    "AWS_SECRET_ACCESS_KEY": "aws",
    "UV_PUBLISH_TOKEN": "pypi-token",
}


def test_only_the_allow_list_passes_and_python_downloads_are_off() -> None:
    source = {
        **SECRETS,
        "PATH": "/usr/bin",
        "HOME": "/home/bot",
        "UV_CACHE_DIR": "/cache/uv",
        "UV_OFFLINE": "1",
        "UV_INDEX_URL": "https://mirror.example/simple",
        "HTTPS_PROXY": "http://proxy:3128",
        "no_proxy": "localhost",
        "UV_PYTHON_DOWNLOADS": "automatic",
        "SOMETHING_ELSE": "x",
    }
    env = child_env(source)
    assert env == {
        "PATH": "/usr/bin",
        "HOME": "/home/bot",
        "UV_CACHE_DIR": "/cache/uv",
        "UV_OFFLINE": "1",
        "UV_INDEX_URL": "https://mirror.example/simple",
        "HTTPS_PROXY": "http://proxy:3128",
        "no_proxy": "localhost",
        "UV_PYTHON_DOWNLOADS": "never",
    }


@pytest.mark.asyncio
async def test_a_child_process_sees_none_of_the_secrets(tmp_path: Path) -> None:
    done = await run(["env"], cwd=tmp_path, env=child_env({**SECRETS, "PATH": "/usr/bin:/bin"}), timeout=10)
    assert done.returncode == 0
    for name, value in SECRETS.items():
        assert name not in done.output and value not in done.output
    assert "UV_PYTHON_DOWNLOADS=never" in done.output


@pytest.mark.asyncio
async def test_a_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "still-running"
    script = f"(sleep 1; touch {marker}) & sleep 5"
    env = child_env({"PATH": "/usr/bin:/bin"})
    done = await run([script], cwd=tmp_path, env=env, timeout=0.2, shell=True)  # noqa: S604 - shell mode's test
    assert done.timed_out and done.returncode == -1
    await asyncio.sleep(1.3)
    assert not marker.exists()  # the grandchild died with its group


@pytest.mark.asyncio
async def test_a_child_gets_its_own_group_but_keeps_our_session_and_priority(tmp_path: Path) -> None:
    # A new session would also put the child in a new scheduler autogroup on Linux, where the worker's
    # lower priority no longer applies: uv would then compete with the webhook server as an equal.
    code = "import os; print(os.getpid(), os.getpgrp(), os.getsid(0), os.nice(0))"
    done = await run(
        [sys.executable, "-c", code], cwd=tmp_path, env=child_env({"PATH": "/usr/bin:/bin"}), timeout=10
    )
    pid, group, session, nice = (int(field) for field in done.output.split())
    assert group == pid  # killable as a group, apart from us
    assert session == os.getsid(0)
    assert nice == os.nice(0)


def test_the_worker_process_and_its_children_give_way_to_the_server() -> None:
    child = "import os; print(os.sched_getscheduler(0), os.nice(0))"
    code = (
        "import subprocess, sys; from bot.service.workerproc import yield_cpu; yield_cpu(); "
        f"print(subprocess.run([sys.executable, '-c', {child!r}], capture_output=True, text=True).stdout)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    policy, nice = (int(field) for field in done.stdout.split())
    assert policy == os.SCHED_BATCH  # inherited by what the worker starts
    assert nice == min(os.nice(0) + 10, 19)
