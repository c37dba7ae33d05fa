"""The hostile repository against a local `upgrade-deps run`, secrets in the caller's environment and HOME."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.commands import REQUEST
from tests.support.attack import Listener, host_processes_with, leaked, make_hostile
from tests.support.repos import copy_example

pytestmark = pytest.mark.slow
TOKEN = "ghp_local_secret_in_the_callers_environment"
SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nlocal-ssh-key-material\n"
GH_TOKEN = "gho_local_secret_in_the_users_home"


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    found = Listener()
    await found.start()
    yield found
    await found.stop()


async def test_local_run(tmp_path: Path, project_root: Path, listener: Listener) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text(SSH_KEY)
    (home / ".config" / "gh").mkdir(parents=True)
    (home / ".config" / "gh" / "hosts.yml").write_text(f"github.com:\n  oauth_token: {GH_TOKEN}\n")
    # Started, not waited for: a process whose command line holds the token, for the attack to look at.
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", TOKEN])  # noqa: ASYNC220
    repo = copy_example(project_root, tmp_path / "repo")
    marker = f"attack-{time.monotonic_ns()}"
    files = [f"{home}/**/*", str(home), str(home / ".ssh" / "id_ed25519"), str(tmp_path)]
    make_hostile(repo, port=listener.port, marker=marker, files=files, pids=[bystander.pid])
    env = {**os.environ, "HOME": str(home), "GITHUB_TOKEN": TOKEN, "AWS_SECRET_ACCESS_KEY": TOKEN}
    try:
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "bot.cli", "run", "--repo", str(repo), *REQUEST.split()],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        # Landed, its breaking call site fixed (the verification commands ran again after each fix),
        # as it does without the attack.
        assert done.returncode == 0, done.stderr
        assert "unsandboxed" not in done.stderr
        assert bystander.poll() is None  # its SIGTERM never reached a process outside
    finally:
        bystander.kill()
        bystander.wait()
    assert listener.of("backend", "found") and listener.of("verify", "found")
    assert listener.of("linger", "heartbeat")
    assert leaked(listener.text(), [TOKEN, GH_TOKEN, "local-ssh-key-material"]) == []
    assert host_processes_with(marker) == []
    assert listener.open_connections == set()
