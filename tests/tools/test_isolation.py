"""Each isolation property of the sandbox, against the real bubblewrap, uv and kernel."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.tools.isolation import SANDBOX_HOME, Extra, Isolation, SandboxError
from bot.tools.isolation_host import open_isolation
from bot.tools.proc import Completed, child_env, run
from bot.tools.uv import uv_binary
from tests.support.attack import host_processes_with

SECRET = "s3cr3t-value-for-the-isolation-tests"


@dataclass(frozen=True)
class Service:
    """A service-shaped host: HOME, job store, key file, working directory and another job's clone."""

    isolation: Isolation
    environ: dict[str, str]
    work: Path
    home: Path
    key: Path
    db: Path
    other_clone: Path


@pytest.fixture
def service(tmp_path: Path) -> Service:
    home, state, clones = tmp_path / "home", tmp_path / "state", tmp_path / "clones"
    for folder in (
        home,
        state,
        clones / "upgrade-deps-other" / "repo",
        clones / "upgrade-deps-ours" / "repo",
    ):
        folder.mkdir(parents=True)
    (home / ".gitconfig").write_text(f"[credential]\n\thelper = store {SECRET}\n")
    key, db = state / "app.pem", state / "jobs.sqlite3"
    key.write_text(f"-----BEGIN PRIVATE KEY-----\n{SECRET}\n")
    db.write_text(SECRET)
    (clones / "upgrade-deps-other" / "repo" / "token.txt").write_text(SECRET)
    environ = {"PATH": os.environ["PATH"], "HOME": str(home), "GITHUB_WEBHOOK_SECRET": SECRET,
               "UV_CACHE_DIR": str(tmp_path / "uv-cache")}  # fmt: skip
    protected = [state, key, db, home, clones, Path.cwd()]
    isolation = asyncio.run(open_isolation(environ, policy="require", protected=protected))
    assert isolation.mode == "bwrap", isolation.reason
    work = clones / "upgrade-deps-ours" / "repo"
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    return Service(isolation, environ, work, home, key, db, clones / "upgrade-deps-other")


async def sandboxed(
    service: Service,
    script: str,
    *,
    timeout: float = 60,  # noqa: ASYNC109 - proc.run's own: the sandbox killed, the output kept
    extras: tuple[Extra, ...] = (),
) -> Completed:
    launch = service.isolation.launch(
        ["/bin/sh", "-c", script], cwd=service.work, env=child_env(service.environ),
        writable=[service.work], extras=extras,
    )  # fmt: skip
    return await run(launch.argv, cwd=service.work, env=launch.env, timeout=timeout)


async def none_left(marker: str, within: float = 10) -> bool:
    """Whether every process holding `marker` is gone (polled, bounded: killing is asynchronous)."""
    deadline = time.monotonic() + within
    while host_processes_with(marker):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


@pytest.fixture
def host_sleeper() -> Iterator[subprocess.Popen[bytes]]:
    code = "import time; time.sleep(600)"
    process = subprocess.Popen([sys.executable, "-c", code, SECRET], env={"TOKEN": SECRET})
    yield process
    process.kill()
    process.wait()


async def test_the_environment_is_the_allow_list_and_home_is_empty(service: Service) -> None:
    done = await sandboxed(service, "env; ls -A $HOME | wc -l")
    assert done.returncode == 0, done.output
    assert SECRET not in done.output and "GITHUB_WEBHOOK_SECRET" not in done.output
    assert f"HOME={SANDBOX_HOME}" in done.output and done.output.rstrip().endswith("0")


async def test_no_process_of_the_host_is_visible(
    service: Service, host_sleeper: subprocess.Popen[bytes]
) -> None:
    script = "cat /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null | tr '\\0' ' '; ls -d /proc/[0-9]*"
    done = await sandboxed(service, script)
    assert SECRET not in done.output
    pids = {int(line.rsplit("/", 1)[1]) for line in done.output.splitlines() if line.startswith("/proc/")}
    assert pids and max(pids) < 20  # only the sandbox's own few processes, numbered from 1


async def test_signals_cannot_reach_the_host(service: Service, host_sleeper: subprocess.Popen[bytes]) -> None:
    done = await sandboxed(service, f"kill -9 {host_sleeper.pid}; kill -9 -1; echo done")
    assert "done" in done.output
    assert host_sleeper.poll() is None  # still running


async def test_no_user_namespace_can_be_made_inside(service: Service) -> None:
    assert service.isolation.flags == ("--disable-userns",)  # bubblewrap 0.8 or later here
    done = await sandboxed(service, "unshare --user true && echo made")
    assert "made" not in done.output and "unshare failed" in done.output


async def test_the_services_files_are_not_there(service: Service) -> None:
    paths = [service.key, service.db, service.home / ".gitconfig", service.other_clone / "repo" / "token.txt",
             Path.cwd() / "pyproject.toml"]  # fmt: skip
    done = await sandboxed(service, " ; ".join(f"cat {path}" for path in paths) + "; ls /tmp")
    assert SECRET not in done.output
    assert done.output.count("No such file or directory") == len(paths), done.output


async def test_the_git_directory_is_read_only_and_work_tree_files_belong_to_us(service: Service) -> None:
    script = ("echo x > planted.txt; echo '#!/bin/sh' > .git/hooks/pre-push; "
              "git config core.fsmonitor 'touch pwned'; echo rc=$?")  # fmt: skip
    done = await sandboxed(service, script)
    assert "Read-only file system" in done.output and "rc=0" not in done.output
    assert not (service.work / ".git" / "hooks" / "pre-push").exists()
    assert "fsmonitor" not in (service.work / ".git" / "config").read_text()
    assert (service.work / "planted.txt").stat().st_uid == os.getuid()


async def test_a_background_process_does_not_outlive_its_step(service: Service) -> None:
    marker = f"bg-{time.monotonic_ns()}"
    done = await sandboxed(service, f"(exec -a {marker} sleep 600 &) ; echo started")
    assert done.returncode == 0 and "started" in done.output
    # The kernel kills a PID namespace's processes before its first one is reaped: nothing to wait for.
    assert host_processes_with(marker) == []


async def test_a_timeout_kills_the_whole_sandbox(service: Service) -> None:
    marker = f"timeout-{time.monotonic_ns()}"
    done = await sandboxed(service, f"(exec -a {marker} sleep 600 &) ; echo started; sleep 600", timeout=2)
    assert done.timed_out
    assert await none_left(marker)


async def test_cancellation_kills_the_whole_sandbox(service: Service) -> None:
    marker = f"cancel-{time.monotonic_ns()}"
    task = asyncio.ensure_future(sandboxed(service, f"(exec -a {marker} sleep 600 &) ; sleep 600"))
    deadline = time.monotonic() + 30
    # ASYNC110: a process started inside the sandbox sends no event; /proc is all there is to watch.
    while not host_processes_with(marker) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    assert host_processes_with(marker), "the sandboxed command never started"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await none_left(marker)


async def test_uvs_cache_is_shared_and_writable(service: Service) -> None:
    (service.work / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\ndependencies = []\n')
    done = await sandboxed(service, f"{uv_binary()} lock --no-progress && ls -A $UV_CACHE_DIR")
    assert done.returncode == 0, done.output
    cache = Path(service.environ["UV_CACHE_DIR"])
    assert any(cache.iterdir()) and cache.stat().st_uid == os.getuid()
    assert (service.work / "uv.lock").stat().st_uid == os.getuid()


async def test_every_interpreter_uv_finds_outside_is_found_inside(service: Service) -> None:
    listing = [uv_binary(), "python", "list", "--only-installed", "--output-format", "json"]
    env = child_env(service.environ)
    outside = await run(listing, cwd=service.work, env=env, timeout=120)
    launch = service.isolation.launch(listing, cwd=service.work, env=env, writable=[service.work])
    inside = await run(launch.argv, cwd=service.work, env=launch.env, timeout=120)

    def versions(done: Completed) -> set[str]:
        line = next(line for line in done.output.splitlines() if line.startswith("["))
        return {entry["version"] for entry in json.loads(line)}

    assert versions(outside) and versions(inside) == versions(outside)


def test_the_sandbox_keeps_the_callers_lower_priority(service: Service) -> None:
    # A new session is a new scheduler autogroup: without giving it our niceness back, uv would compete
    # with the webhook server as an equal. Checked in a child that lowered its own priority first.
    code = (
        "import asyncio, os, sys; os.nice(7); from pathlib import Path;"
        "from bot.tools.isolation_host import open_isolation; from bot.tools.proc import run;"
        "env = {'PATH': os.environ['PATH'], 'HOME': sys.argv[1]};"
        "iso = asyncio.run(open_isolation(env, policy='require', protected=[]));"
        "l = iso.launch(['/bin/sh', '-c', 'cat /proc/self/autogroup; nice'], cwd=Path('/'), env=env);"
        "print(asyncio.run(run(l.argv, cwd=Path('/'), env=l.env, timeout=30)).output)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(service.home)], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    autogroup, nice = done.stdout.split("\n")[:2]
    wanted = min(os.nice(0) + 7, 19)
    assert autogroup.endswith(f"nice {wanted}") and int(nice) == wanted


def test_extra_paths_that_would_expose_the_service_are_refused(service: Service) -> None:
    (service.home / ".ssh").mkdir()
    for path in (Path("/"), service.home, service.home / ".ssh", service.key.parent, service.key):
        extra = Extra(path, "pyproject.toml [tool.uv] find-links")
        with pytest.raises(
            SandboxError, match=r"^pyproject\.toml \[tool\.uv\] find-links: .* outside the repo"
        ):
            service.isolation.launch(
                ["true"], cwd=service.work, env={}, writable=[service.work], extras=[extra]
            )


async def test_an_extra_path_outside_the_repository_is_readable_only(
    service: Service, tmp_path: Path
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "a.whl").write_text("wheel")
    extra = Extra(wheels, "pyproject.toml [tool.uv] find-links", writable=True)  # service: never writable
    done = await sandboxed(service, f"cat {wheels}/a.whl; touch {wheels}/b", extras=(extra,))
    assert "wheel" in done.output and "Read-only file system" in done.output


def test_without_a_sandbox_the_service_refuses_to_run_repository_code(tmp_path: Path) -> None:
    environ = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    isolation = asyncio.run(open_isolation(environ, policy="require", protected=[], bwrap="no-such-bwrap"))
    assert isolation.mode == "refused" and "bubblewrap (bwrap) is not installed" in isolation.reason
    with pytest.raises(SandboxError, match="needs a sandbox to run the repository's code"):
        isolation.launch(["uv", "lock"], cwd=tmp_path, env=environ)
    opted_out = asyncio.run(open_isolation(environ, policy="auto", protected=[], bwrap="no-such-bwrap"))
    assert opted_out.mode == "unsandboxed"
    assert opted_out.launch(["uv", "lock"], cwd=tmp_path, env=environ).argv == ("uv", "lock")


async def test_the_coverage_of_the_tests_never_reaches_sandboxed_code(service: Service) -> None:
    """The suite runs under coverage, whose .pth in .venv starts it in a Python that has its variables:
    what runs in the sandbox is the repository's, and gets none of them, nor sees that .pth or the
    data files."""
    root = Path.cwd()
    pth = Path(sysconfig.get_paths()["purelib"]) / "a1_coverage.pth"
    assert pth.is_file()  # installed with coverage (the dev group)
    variables = {"COVERAGE_PROCESS_CONFIG": "e30=", "COVERAGE_PROCESS_START": str(root / "pyproject.toml"),
                 "COVERAGE_FILE": str(root / ".coverage")}  # fmt: skip
    measured = Service(**{**vars(service), "environ": {**service.environ, **variables}})
    script = f"env; for f in {pth} {root / 'pyproject.toml'}; do test -e $f && echo SHOWN $f; done; echo done"
    done = await sandboxed(measured, script)
    assert done.returncode == 0 and done.output.rstrip().endswith("done"), done.output
    assert "COVERAGE" not in done.output and "SHOWN" not in done.output
