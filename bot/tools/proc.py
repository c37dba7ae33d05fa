"""Runs subprocesses asynchronously with a timeout and an allow-listed environment."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# What a child process may see of ours. Everything else (app key, installation token, webhook
# secret, anything a deployment sets) stays out, because repository code runs in these children.
ALLOWED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR")
ALLOWED_PREFIXES = ("UV_",)
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY")
# Never passed, even with an allowed prefix.
DENIED = ("UV_PUBLISH_TOKEN", "UV_PUBLISH_PASSWORD")


def child_env(source: Mapping[str, str], extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The allow-listed environment for uv and repository commands, built from `source`."""
    env = {}
    for key, value in source.items():
        upper = key.upper()
        if key in DENIED:
            continue
        if key in ALLOWED or key.startswith(ALLOWED_PREFIXES) or upper in PROXIES:
            env[key] = value
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.setdefault("PATH", os.defpath)
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class Completed:
    """A finished process: exit code and its combined output."""

    argv: tuple[str, ...]
    returncode: int
    output: str
    timed_out: bool = False


async def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    # Not a cancel scope: on expiry the process group is killed and what it printed is still returned.
    timeout: float,  # noqa: ASYNC109
    shell: bool = False,
) -> Completed:
    """Run `argv` (or a shell command line), capture stdout+stderr, kill the process group on timeout.

    Cancellation (Ctrl-C, job cancelled) also kills the whole group before re-raising, so no uv or
    build backend keeps writing into the work tree after we have restored it.
    """
    # A process group of its own (killable as one), but not a new session: on Linux a new session
    # is a new scheduler autogroup, which would undo the worker's lower priority for uv and git.
    if shell:
        process = await asyncio.create_subprocess_shell(
            argv[0], cwd=cwd, env=dict(env), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, stdin=asyncio.subprocess.DEVNULL, process_group=0,
        )  # fmt: skip
    else:
        process = await asyncio.create_subprocess_exec(
            *argv, cwd=cwd, env=dict(env), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, stdin=asyncio.subprocess.DEVNULL, process_group=0,
        )  # fmt: skip
    # Read as it comes, so what a command printed before its timeout is kept for the report.
    chunks: list[bytes] = []

    async def collect() -> None:
        assert process.stdout is not None  # noqa: S101 - started with stdout=PIPE
        while chunk := await process.stdout.read(65536):
            chunks.append(chunk)
        await process.wait()

    try:
        await asyncio.wait_for(collect(), timeout)
    except TimeoutError:
        _kill_group(process)
        # A grandchild that left the group could hold the pipe open: do not wait on it for ever.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(collect(), 5)
        return Completed(tuple(argv), -1, b"".join(chunks).decode(errors="replace"), timed_out=True)
    except BaseException:
        _kill_group(process)
        await process.wait()
        raise
    return Completed(tuple(argv), process.returncode or 0, b"".join(chunks).decode(errors="replace"))


def _kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def tail(text: str, lines: int = 50) -> str:
    """The last `lines` lines of a process's output."""
    return "\n".join(text.rstrip().splitlines()[-lines:])
