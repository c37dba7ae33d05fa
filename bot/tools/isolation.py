"""Turns a command that runs repository code into a bubblewrap command line blind to the service."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.errors import RefusedError
from bot.model import Extra

# Where the sandbox's HOME is (an empty directory on the sandbox's own root); TMPDIR is a fresh tmpfs.
SANDBOX_HOME = "/home/sandbox"
SANDBOX_TMP = "/tmp"  # noqa: S108 - a fresh tmpfs inside the sandbox, never the host's /tmp
# Mapped onto the caller outside: files written in the work tree belong to the service user there.
SANDBOX_UID = 65534
# Read-only system trees (or the symlinks a merged-/usr system has in their place).
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
# Host secrets under those trees: when the service runs as root their owner is the sandbox's owner too.
HOST_SECRETS = (
    "/etc/shadow", "/etc/gshadow", "/etc/ssh", "/etc/ssl/private", "/etc/sudoers", "/etc/sudoers.d",
)  # fmt: skip
# Namespaces, session and capabilities; the network stays, for the package index.
BASE = (
    "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
    "--share-net", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
    "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox",
)  # fmt: skip
# A new session is a new scheduler autogroup on Linux: give it the caller's niceness back first. The
# kernel takes such a change at most every 100 ms machine-wide (EAGAIN otherwise), hence the retries.
NICE_SHIM = (
    'n=$1; shift; i=0; until [ "$n" = 0 ] || echo "$n" 2>/dev/null > /proc/self/autogroup; do '
    'i=$((i+1)); [ $i -gt 25 ] && break; sleep 0.02; done; exec "$@"'
)

# Where bwrap knows it (0.8+): no user namespace inside the sandbox, a kernel surface it does not need.
NO_NESTED_USERNS = ("--disable-userns",)

Mode = Literal["bwrap", "unsandboxed", "refused"]


class SandboxError(RefusedError):
    """Repository code cannot run here as asked: no sandbox, or a path the sandbox must not expose."""


@dataclass(frozen=True)
class Host:
    """What of the host every sandbox of this process sees, found once at start-up."""

    readable: tuple[Path, ...]  # interpreters and the directories on PATH
    cache: Path  # uv's cache: shared between runs, writable
    protected: tuple[Path, ...]  # never visible: the service's files, HOME, other jobs' clones
    uv_config: Path | None = None  # the user's uv configuration directory, read-only
    # The service refuses extra paths inside protected ones too; a laptop run only refuses exposing them.
    strict: bool = True
    extras_writable: bool = False
    nice: int = 0


@dataclass(frozen=True)
class Launch:
    argv: tuple[str, ...]
    env: dict[str, str]


@dataclass(frozen=True)
class Isolation:
    """How repository code runs in this process: under bwrap, bare (opted out), or not at all."""

    mode: Mode
    host: Host
    bwrap: str = "bwrap"
    reason: str = ""  # why it is not sandboxed
    flags: tuple[str, ...] = NO_NESTED_USERNS  # what this bwrap supports beyond BASE

    def launch(
        self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str],
        writable: Sequence[Path] = (), extras: Sequence[Extra] = (),
    ) -> Launch:  # fmt: skip
        """The command line and environment that run `argv` in `cwd` with only `writable` writable."""
        if self.mode == "refused":
            raise SandboxError(self.refusal())
        if self.mode == "unsandboxed":
            return Launch(tuple(argv), dict(env))
        allowed = vet(extras, host=self.host, work=writable)
        inner = {**env, "HOME": SANDBOX_HOME, "TMPDIR": SANDBOX_TMP, "UV_CACHE_DIR": str(self.host.cache)}
        if self.host.uv_config is not None:
            inner["XDG_CONFIG_HOME"] = f"{SANDBOX_HOME}/.config"
        mounts = self._mounts(writable, allowed)
        shim = ("/bin/sh", "-c", NICE_SHIM, "sh", str(self.host.nice))
        command = (self.bwrap, *BASE, *self.flags, *mounts, "--chdir", str(cwd), "--", *shim, *argv)
        return Launch(command, inner)

    def refusal(self) -> str:
        """Why repository code does not run here, as the check run and the command line say it."""
        return (
            "this upgrade needs a sandbox to run the repository's code (uv runs build backends) "
            f"and none is available here: {self.reason}"
        )

    def _mounts(self, writable: Sequence[Path], extras: Sequence[Extra]) -> list[str]:
        host = self.host
        out = system_mounts()
        out += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", SANDBOX_TMP, "--dir", SANDBOX_HOME]
        for path in host.readable:
            out += ["--ro-bind-try", str(path), str(path)]
        if host.uv_config is not None:
            out += ["--ro-bind-try", str(host.uv_config), f"{SANDBOX_HOME}/.config/uv"]
        out += ["--bind", str(host.cache), str(host.cache)]
        for extra in extras:
            out += ["--bind-try" if extra.writable else "--ro-bind-try", str(extra.path), str(extra.path)]
        for work in writable:
            out += ["--bind", str(work), str(work)]
            # Over the writable tree: a build backend must not plant hooks or config that our git runs.
            if os.path.lexists(work / ".git"):
                out += ["--ro-bind", str(work / ".git"), str(work / ".git")]
        bound = [Path(p) for p in (*SYSTEM, *map(str, host.readable), str(host.cache))]
        out += masks([*host.protected, *map(Path, HOST_SECRETS)], bound)
        return out


def system_mounts() -> list[str]:
    """Read-only system trees; a merged-/usr system's `/bin -> usr/bin` symlinks stay symlinks."""
    out: list[str] = []
    for path in SYSTEM:
        if os.path.islink(path):
            out += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            out += ["--ro-bind", path, path]
    resolv = "/etc/resolv.conf"
    if os.path.islink(resolv):  # often into /run, which is not bound
        out += ["--ro-bind-try", os.path.realpath(resolv), os.path.realpath(resolv)]
    return out


def masks(secrets: Sequence[Path], bound: Sequence[Path]) -> list[str]:
    """Cover every secret that lies under a bound tree with an empty file or directory."""
    out: list[str] = []
    for secret in secrets:
        if not any(secret != root and secret.is_relative_to(root) for root in bound):
            continue
        if secret.is_dir():
            out += ["--tmpfs", str(secret), "--remount-ro", str(secret)]
        elif secret.exists():
            out += ["--ro-bind", "/dev/null", str(secret)]
    return out


def vet(extras: Sequence[Extra], *, host: Host, work: Sequence[Path]) -> list[Extra]:
    """The extra paths to bind: those inside the work tree or missing are skipped; unsafe ones refused."""
    allowed = []
    for extra in extras:
        path = Path(os.path.realpath(extra.path))
        if any(path.is_relative_to(tree) for tree in work) or not path.exists():
            continue
        for secret in host.protected:
            if secret.is_relative_to(path) or (host.strict and path.is_relative_to(secret)):
                raise SandboxError(
                    f"{extra.why}: {extra.path} is outside the repository and would expose {secret}; "
                    "upgrade-deps does not make it visible to the repository's code"
                )
        allowed.append(Extra(path, extra.why, extra.writable and host.extras_writable))
    return allowed
