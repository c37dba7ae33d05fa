"""A throwaway PostgreSQL cluster for the tests: initdb in a temporary directory, a Unix socket there.

PostgreSQL refuses to run as root, and CI runs as root: then the cluster belongs to the `postgres`
user (made by Debian's package) and every server command runs as that user through `runuser`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg

TIMEOUT = 120  # seconds for initdb, a start or a stop: generous on a busy machine


def bindir() -> Path:
    """Debian's server binaries (postgresql-NN), newest first; scripts/services installs them."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("PostgreSQL's server is not installed: run scripts/services")
    return Path(initdb).resolve().parent


class Cluster:
    """One server on a socket in its own directory; `url(name)` names a database in it."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable  # fsync as in production (the benchmarks); the tests skip it for speed
        self.bin = bindir()
        self.root = Path(tempfile.mkdtemp(prefix="upgrade-deps-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._names = itertools.count(1)

    def _run(self, *argv: str) -> None:
        subprocess.run([*self._as, *argv], check=True, timeout=TIMEOUT, capture_output=True)

    def init(self) -> Cluster:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "--no-sync", "-E", "UTF8")  # fmt: skip
        return self

    def start(self) -> None:
        # No TCP at all: the socket in the cluster's own directory is the only way in.
        fsync = "on" if self.durable else "off"
        options = f"-k {self.root} -c listen_addresses='' -c fsync={fsync} -c max_connections=200"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "-t", str(TIMEOUT), "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """`fast` disconnects every client at once, as a database that goes away does."""
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", str(TIMEOUT), "stop"
        )

    def url(self, name: str = "postgres") -> str:
        return f"postgresql://postgres@/{name}?host={self.root}"

    def pid(self) -> int:
        """The postmaster's process id (its backends are its children)."""
        return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])

    def create_database(self) -> str:
        """A new empty database; its URL."""
        name = f"test_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running_cluster(*, durable: bool = False) -> Iterator[Cluster]:
    cluster = Cluster(durable=durable).init()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


# The job store's connections (every one it opens carries this application_name).
OURS = "application_name = 'upgrade-deps' AND datname = current_database()"


def connections(url: str) -> int:
    """How many connections the job store holds to the database of `url`."""
    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT COUNT(*) FROM pg_stat_activity WHERE {OURS}").fetchone()  # noqa: S608
    return int(row[0]) if row else 0


def cut_connections(url: str) -> int:
    """End the job store's connections to the database of `url`, as a network that drops them does."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            f"SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE {OURS}"  # noqa: S608
        ).fetchone()
    return int(row[0]) if row else 0
