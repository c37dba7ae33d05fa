"""A directory per worker process for job clones, flock-held while it runs; start-up removes the dead's."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bot.settings import root_problem

PREFIX = "worker-"
LOCK = "lock"  # inside each worker's directory, flock-held by its process for as long as it runs
GUARD = ".lock"  # in the root: held while a process removes the dead and claims its own


class SandboxRootError(Exception):
    """The sandbox root cannot be used safely; the message names the directory and why."""


class WorkerDir:
    """This process's directory under the root; its lock is released when the process ends, however."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    def release(self) -> None:
        """On a clean stop: remove the directory, then let go of the lock."""
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._fd)


@contextlib.contextmanager
def _guarded(root: Path) -> Iterator[None]:
    fd = os.open(root / GUARD, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # short: other processes only clean up and claim under it
        yield
    finally:
        os.close(fd)


def _remove_if_dead(entry: Path) -> bool:
    """Remove a worker's directory whose lock nobody holds; False while its process runs."""
    try:
        fd = os.open(entry / LOCK, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        fd = None  # died before locking it: claims happen under the guard, which we hold
    try:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        if fd is not None:
            os.close(fd)
    shutil.rmtree(entry, ignore_errors=True)
    return True


def claim(root: Path) -> tuple[WorkerDir, list[Path]]:
    """A locked directory of this process under `root`, and the directories of dead workers removed.

    Safe with any number of worker processes on the machine: a directory goes only when the flock of
    its lock file can be taken, which the kernel releases when its process dies, SIGKILL included.
    """
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    problem = root_problem(root, os.getuid())
    if problem is not None:
        raise SandboxRootError(problem)
    with _guarded(root):
        entries = sorted(p for p in root.iterdir() if p.name.startswith(PREFIX) and not p.is_symlink())
        removed = [entry for entry in entries if entry.is_dir() and _remove_if_dead(entry)]
        path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=root))
        fd = os.open(path / LOCK, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return WorkerDir(path, fd), removed
