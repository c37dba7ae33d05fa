"""Finds, once per process, what of the host a sandbox needs (interpreters, uv cache) and if bwrap works."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Literal

from bot.settings import Settings
from bot.tools.isolation import NO_NESTED_USERNS, SYSTEM, Host, Isolation
from bot.tools.proc import child_env, run
from bot.tools.uv import uv_binary

Policy = Literal["require", "auto", "off"]
PROBE_TIMEOUT = 30.0
PYTHONS = ("python", "python3")


def _real(path: str | Path) -> Path:
    return Path(os.path.realpath(path))


def _home(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("HOME") or "/nonexistent")


def uv_cache(environ: Mapping[str, str]) -> Path:
    """uv's cache as uv itself would pick it, made explicit so the sandbox can bind it."""
    if environ.get("UV_CACHE_DIR"):
        return _real(environ["UV_CACHE_DIR"])
    base = environ.get("XDG_CACHE_HOME") or str(_home(environ) / ".cache")
    return _real(Path(base) / "uv")


def _uv_config(environ: Mapping[str, str]) -> Path | None:
    base = environ.get("XDG_CONFIG_HOME") or str(_home(environ) / ".config")
    folder = Path(base) / "uv"
    return _real(folder) if folder.is_dir() else None


def _system(path: Path) -> bool:
    return any(path.is_relative_to(root) for root in map(_real, SYSTEM))


def _interpreters(folder: Path) -> Iterator[Path]:
    """The installation trees behind the Python executables in `folder` (pyenv shims: pyenv's root)."""
    if folder.name == "shims" and (folder.parent / "libexec").is_dir():
        yield folder.parent
        return
    try:
        names = [entry.name for entry in os.scandir(folder)]
    except OSError:
        return
    for name in names:
        if name in PYTHONS or (name.startswith("python3.") and name[8:].isdigit()):
            real = _real(folder / name)
            if real.parent.name == "bin":
                yield real.parent.parent


def readable_paths(environ: Mapping[str, str]) -> tuple[Path, ...]:
    """PATH's directories, the interpreters found there and uv's managed ones, certificates: read-only."""
    found: list[Path] = []
    for entry in environ.get("PATH", os.defpath).split(os.pathsep):
        if entry and os.path.isabs(entry) and os.path.isdir(entry):
            found += [_real(entry), *_interpreters(_real(entry))]
    managed = environ.get("UV_PYTHON_INSTALL_DIR") or str(
        Path(environ.get("XDG_DATA_HOME") or str(_home(environ) / ".local" / "share")) / "uv" / "python"
    )
    found.append(_real(managed))
    found += [_real(environ[key]) for key in ("SSL_CERT_FILE", "SSL_CERT_DIR") if key in environ]
    unique = []
    for path in found:
        if path.exists() and not _system(path) and path not in unique:
            unique.append(path)
    return tuple(unique)


def build_host(
    environ: Mapping[str, str], *, protected: Sequence[Path], strict: bool, extras_writable: bool
) -> Host:
    cache = uv_cache(environ)
    cache.mkdir(parents=True, exist_ok=True)
    uv = _real(uv_binary())  # the pinned uv we run, wherever our own environment keeps it
    readable = readable_paths(environ)
    return Host(
        readable=readable if _system(uv) or uv in readable else (*readable, uv),
        cache=cache,
        protected=tuple(dict.fromkeys(_real(p) for p in protected)),
        uv_config=_uv_config(environ),
        strict=strict,
        extras_writable=extras_writable,
        nice=os.nice(0),
    )


async def probe(isolation: Isolation, environ: Mapping[str, str]) -> str | None:
    """Why this sandbox cannot run here (bwrap missing or refused by the kernel), or None when it can."""
    if shutil.which(isolation.bwrap, path=environ.get("PATH")) is None:
        return "bubblewrap (bwrap) is not installed; on Debian or Ubuntu: apt-get install bubblewrap"
    launch = isolation.launch(["true"], cwd=Path("/"), env=child_env(environ))
    try:
        done = await run(launch.argv, cwd=Path("/"), env=launch.env, timeout=PROBE_TIMEOUT)
    except OSError as exc:
        return f"bwrap could not start: {exc.strerror}"
    if done.timed_out or done.returncode != 0:
        last = done.output.strip().splitlines()[-1:] or ["no output"]
        return f"bwrap does not work here ({last[0]}); it needs user namespaces or a setuid bwrap"
    return None


async def open_isolation(
    environ: Mapping[str, str], *, policy: Policy, protected: Sequence[Path], strict: bool = True,
    extras_writable: bool = False, bwrap: str = "bwrap",
) -> Isolation:  # fmt: skip
    """The isolation this process uses for every repository command: probed once, here."""
    host = build_host(environ, protected=protected, strict=strict, extras_writable=extras_writable)
    if policy == "off":
        return Isolation("unsandboxed", host, bwrap, reason="the sandbox was turned off")
    for flags in (NO_NESTED_USERNS, ()):  # an older bwrap lacks --disable-userns: without it, then
        problem = await probe(Isolation("bwrap", host, bwrap, flags=flags), environ)
        if problem is None:
            return Isolation("bwrap", host, bwrap, flags=flags)
    return Isolation("unsandboxed" if policy == "auto" else "refused", host, bwrap, reason=problem or "")


async def local_isolation(environ: Mapping[str, str], *, policy: Policy) -> Isolation:
    """A laptop run: the user's HOME stays hidden as a whole, paths inside it that manifests name are fine."""
    home = [Path(environ["HOME"])] if environ.get("HOME") else []
    return await open_isolation(environ, policy=policy, protected=home, strict=False, extras_writable=True)


async def service_isolation(settings: Settings) -> Isolation:
    """The service's: its working directory, job store, key file, HOME and every job's clone stay hidden."""
    environ = settings.environ
    protected = [Path.cwd(), Path.cwd() / settings.db_path, Path(tempfile.gettempdir())]
    protected += [Path(value) for value in (settings.key_path, environ.get("HOME", "")) if value]
    # The job store's directory holds its -wal, -shm and inbox files too.
    protected.append((Path.cwd() / settings.db_path).parent)
    policy: Policy = "auto" if settings.unsafe_unsandboxed else "require"
    return await open_isolation(environ, policy=policy, protected=protected, bwrap=settings.bwrap)
