"""Reads and writes files of a repository without ever following a symlink out of it."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from bot.errors import RefusedError

MODE = 0o644


class UnsafePathError(RefusedError):
    """A repository file leads outside the repository (a symlink, or `..`): never followed."""


def _refuse(relative: str) -> UnsafePathError:
    return UnsafePathError(
        f"{relative}: leads outside the repository (a symbolic link or '..'); "
        "upgrade-deps neither reads nor writes through it"
    )


def resolve(root: Path, relative: str) -> Path:
    """Where `relative` really is, refusing anything outside `root` (symlinks inside are fine)."""
    real_root = Path(os.path.realpath(root))
    target = Path(os.path.realpath(real_root / relative))
    if target == real_root or not target.is_relative_to(real_root):
        raise _refuse(relative)
    return target


def _walk(real_root: Path, parts: tuple[str, ...], relative: str) -> int:
    """A descriptor of `real_root/parts`, opened one directory at a time without following links.

    A link swapped in after `resolve` (a build backend running meanwhile) makes this fail instead
    of leading out.
    """
    fd = os.open(real_root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    for part in parts:
        try:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise _refuse(relative) from None
            raise
        os.close(fd)
        fd = inner
    return fd


@contextlib.contextmanager
def _parent(root: Path, relative: str) -> Iterator[tuple[int, str]]:
    """The real parent directory of what `relative` resolves to, and the final name."""
    real_root = Path(os.path.realpath(root))
    parts = resolve(root, relative).relative_to(real_root).parts
    fd = _walk(real_root, parts[:-1], relative)
    try:
        yield fd, parts[-1]
    finally:
        os.close(fd)


@contextlib.contextmanager
def _parent_lexical(root: Path, relative: str) -> Iterator[tuple[int, str]]:
    """The directory `relative` is in (which must be inside `root`) and its final name, not followed."""
    head, _, name = relative.rstrip("/").rpartition("/")
    if not name or name in (".", ".."):
        raise _refuse(relative)
    real_root = Path(os.path.realpath(root))
    folder = Path(os.path.realpath(real_root / head)) if head else real_root
    if not folder.is_relative_to(real_root):
        raise _refuse(relative)
    fd = _walk(real_root, folder.relative_to(real_root).parts, relative)
    try:
        yield fd, name
    finally:
        os.close(fd)


def _open(root: Path, relative: str, flags: int) -> int:
    with _parent(root, relative) as (folder, name):
        try:
            return os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, MODE, dir_fd=folder)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _refuse(relative) from None
            raise


def read_bytes(root: Path, relative: str) -> bytes:
    with os.fdopen(_open(root, relative, os.O_RDONLY), "rb") as handle:
        return handle.read()


def read_text(root: Path, relative: str) -> str:
    return read_bytes(root, relative).decode("utf-8")


def write_bytes(root: Path, relative: str, data: bytes) -> None:
    with os.fdopen(_open(root, relative, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "wb") as handle:
        handle.write(data)


def write_text(root: Path, relative: str, text: str) -> None:
    write_bytes(root, relative, text.encode("utf-8"))


def replace_bytes(root: Path, relative: str, data: bytes) -> None:
    """Put `data` at `relative` as a regular file, replacing whatever is there now (a planted link too)."""
    with _parent_lexical(root, relative) as (folder, name):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=folder)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        with os.fdopen(os.open(name, flags, MODE, dir_fd=folder), "wb") as handle:
            handle.write(data)


def copy(root: Path, source: str, target: str) -> None:
    write_bytes(root, target, read_bytes(root, source))


def exists(root: Path, relative: str) -> bool:
    """Whether something is at `relative` (a link counts, whatever it points at)."""
    return os.path.lexists(root / relative)


def is_file(root: Path, relative: str) -> bool:
    """A regular file inside the repository; a link leading out is refused, not answered."""
    if not exists(root, relative):
        return False
    return resolve(root, relative).is_file()


def unlink(root: Path, relative: str) -> None:
    """Remove `relative` itself (a link, never what it points at); nothing there is fine."""
    with contextlib.suppress(FileNotFoundError), _parent_lexical(root, relative) as (folder, name):
        os.unlink(name, dir_fd=folder)
