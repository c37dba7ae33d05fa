"""A hostile repository against the real server: its build backend and verification command find nothing.

They look in their environment, every /proc/*/environ and cmdline, the service's files (job store,
key file, working directory, HOME, another job's clone), signal the server and its workers, and leave
a process behind that waits for the job's `git push`; all of it is reported to a loopback listener.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.commands import REQUEST, origin, pr_comment, pushed_once
from tests.e2e.harness import ROOT, ServerProcess
from tests.fakegithub.server import FakeGitHub, Repo
from tests.support.appkeys import key_pair, key_parts
from tests.support.attack import Listener, host_processes_with, leaked, make_hostile
from tests.support.gitrepos import branch_log
from tests.support.repos import git
from tests.support.webhooks import SECRET

pytestmark = pytest.mark.slow
DECOY = "decoy-token-in-another-jobs-clone"


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    found = Listener()
    await found.start()
    yield found
    await found.stop()


@pytest.fixture
async def keyed(fake: FakeGitHub, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    """The real server with its key in a file, as in production, and another job's clone beside ours."""
    process = ServerProcess(api_url=fake.url, tmp=tmp_path)
    key = tmp_path / "secrets" / "app.pem"
    key.parent.mkdir()
    key.write_text(process.env.pop("GITHUB_PRIVATE_KEY"))
    process.env["GITHUB_PRIVATE_KEY_PATH"] = str(key)
    decoy = Path(tempfile.mkdtemp(prefix="upgrade-deps-"))
    (decoy / "repo").mkdir()
    (decoy / "repo" / "token.txt").write_text(DECOY)
    await process.start()
    yield process
    await process.stop()
    shutil.rmtree(decoy)
    assert "ghs_fake" not in process.log.read_text()


def _pids(server: ServerProcess) -> list[int]:
    assert server.process is not None
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *map(int, children)]


def _hunted(server: ServerProcess) -> list[str]:
    tmp = server.tmp
    return [
        f"{tmp}/jobs.sqlite3*", str(tmp / "secrets" / "app.pem"), str(tmp / "secrets"), str(tmp),
        str(tmp / "*"), str(ROOT), str(ROOT / "pyproject.toml"), tempfile.gettempdir(),
        f"{tempfile.gettempdir()}/upgrade-deps-*/repo/*", "/root", "/home",
    ]  # fmt: skip


def _hostile_branch(fake: FakeGitHub, tmp: Path, target: Repo, branch: str, **attack: object) -> None:
    """Commit the hostile repository on `branch` of `target`'s bare remote."""
    work = tmp / f"hostile-{branch}"
    git(tmp, "clone", "-q", "--branch", "main", str(target.bare), str(work))
    make_hostile(work, **attack)  # type: ignore[arg-type]
    git(work, "push", "-q", "origin", f"HEAD:refs/heads/{branch}")


def _secrets(fake: FakeGitHub) -> list[str]:
    return [SECRET, DECOY, "ghs_fake", *key_parts(key_pair()[0]), *fake.tokens]


async def _assert_nothing_found(
    server: ServerProcess, fake: FakeGitHub, listener: Listener, marker: str, *, verify: bool
) -> None:
    text = listener.text()
    assert listener.of("backend", "found"), "the build backend never ran"
    assert bool(listener.of("verify", "found")) == verify
    assert listener.of("linger", "heartbeat"), "the background process never started"
    assert leaked(text, _secrets(fake)) == []
    assert listener.of("linger", "git") == []  # it never saw a git process, let alone the push's
    # The steps are over: every process they started is gone, and with it its connection.
    assert host_processes_with(marker) == []
    assert listener.open_connections == set()
    beats = len(listener.reports)
    assert server.process is not None and server.process.returncode is None  # SIGTERM never reached it
    assert (await server.health())["ok"]
    assert len(listener.reports) == beats


async def test_same_repository_pull_request(
    fake: FakeGitHub, keyed: ServerProcess, listener: Listener, tmp_path: Path
) -> None:
    repo = origin(fake, tmp_path, "all-contributors/all-contributors-bot")
    marker = f"attack-{time.monotonic_ns()}"
    attack = {"port": listener.port, "marker": marker, "files": _hunted(keyed), "pids": _pids(keyed)}
    _hostile_branch(fake, tmp_path, repo, "feature", **attack)
    fake.add_pull(repo.full_name, 1, head="feature", base="main", author="jakebolam")
    fake.roles["jakebolam"] = "write"
    status, _ = await keyed.deliver("issue_comment", pr_comment(repo, f"/upgrade-deps {REQUEST}", 1))
    assert status == 202
    await keyed.idle()
    assert pushed_once(branch_log(repo.bare, "feature")[:-1])  # the job itself went on as usual
    [run] = [r for r in fake.check_runs.values() if r["head_sha"] == repo.ref("feature")]
    assert run["status"] == "completed"
    await _assert_nothing_found(keyed, fake, listener, marker, verify=True)


async def test_fork_pull_request(
    fake: FakeGitHub, keyed: ServerProcess, listener: Listener, tmp_path: Path
) -> None:
    repo = origin(fake, tmp_path, "all-contributors/all-contributors-bot")
    fork_bare = tmp_path / "fork.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo.bare), str(fork_bare))
    fork = Repo("someone/all-contributors-bot", fork_bare)
    marker = f"attack-{time.monotonic_ns()}"
    attack = {"port": listener.port, "marker": marker, "files": _hunted(keyed), "pids": _pids(keyed)}
    _hostile_branch(fake, tmp_path, fork, "patch-1", **attack)
    fake.add_pull(repo.full_name, 1, head="patch-1", base="main", author="someone", head_repo=fork)
    fake.roles["jakebolam"] = "write"
    await keyed.deliver("issue_comment", pr_comment(repo, f"/upgrade-deps {REQUEST}", 1))
    await keyed.idle()
    [run] = fake.check_runs.values()
    assert run["status"] == "completed" and "from a fork" in run["output"]["summary"]
    # Locking a fork's manifests runs its backend; its verification command never runs.
    await _assert_nothing_found(keyed, fake, listener, marker, verify=False)
