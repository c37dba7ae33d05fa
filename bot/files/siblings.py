"""Copies of the tracked tree beside the repository, at its depth, so every `../` path resolves alike."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from bot.model import Extra

# Written first into every copy: only a directory holding it is ever removed as one of ours.
MARKER = ".upgrade-deps-copy"
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def safe_name(name: str) -> bool:
    """Whether `name` (a variant's) can end a directory name without leading anywhere else."""
    return _SAFE.fullmatch(name) is not None


def sibling_root(repo: Path, name: str) -> Path:
    """`<parent>/.<repo>.lock-<name>/` for a repository at `<parent>/<repo>/`."""
    if not safe_name(name):
        raise ValueError(f"{name!r} cannot name a copy")
    return repo.parent / f".{repo.name}.lock-{name}"


def tree_bytes(repo: Path, tracked: Iterable[str]) -> int:
    """What copying the tracked files costs on disk (links counted as links)."""
    total = 0
    for relative in tracked:
        try:
            total += os.lstat(repo / relative).st_size
        except OSError:
            continue  # deleted in the work tree: nothing to copy
    return total


def copy_refusal(
    repo: Path, tracked: Sequence[str], extras: Iterable[Extra], *, limit_mb: float
) -> str | None:
    """Why the tree cannot be copied beside itself with the same result, or None when it can."""
    size = tree_bytes(repo, tracked)
    if size > limit_mb * 1_000_000:
        return f"the tracked tree is {size / 1_000_000:.0f} MB, over the {limit_mb:g} MB copy limit"
    inside = repo.resolve()
    for extra in extras:
        # A copy would still use the repository's own files there, and uv writes the path relative
        # to the project: the copy's lock would say `../<repo>/...` where the repository's says `...`.
        if extra.absolute and extra.path.resolve().is_relative_to(inside):
            return f"{extra.why} names an absolute path inside the repository"
    return None


def start_copy(repo: Path, name: str) -> Path:
    """The empty sibling named `name`, marked as ours (a stale copy of ours is replaced); OSError when
    the parent refuses it or something not ours is there. Quick: the files come with `fill_copy`."""
    root = sibling_root(repo, name)
    remove_copy(root)
    root.mkdir()
    (root / MARKER).write_text(f"{repo}\n", encoding="utf-8")
    return root


def fill_copy(
    repo: Path, root: Path, tracked: Iterable[str], *, stop: Callable[[], bool] | None = None
) -> None:
    """Copy the tracked files into `root`, links as links; between two files, `stop()` may end it."""
    for relative in tracked:
        if stop is not None and stop():
            return
        source, target = repo / relative, root / relative
        if not os.path.lexists(source):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            os.symlink(os.readlink(source), target)
        elif source.is_dir():  # a submodule's checkout
            shutil.copytree(source, target, symlinks=True)
        else:
            shutil.copyfile(source, target)
            shutil.copymode(source, target)


def remove_copy(root: Path) -> bool:
    """Remove a copy of ours (one holding the marker); anything else there is left alone."""
    marker = root / MARKER
    if root.is_symlink() or not marker.is_file() or marker.is_symlink():
        return False
    shutil.rmtree(root, ignore_errors=True)
    return True


def remove_stale(repo: Path) -> list[Path]:
    """The copies a killed run left beside `repo`, removed."""
    prefix = f".{repo.name}.lock-"
    try:
        candidates = [path for path in repo.parent.iterdir() if path.name.startswith(prefix)]
    except OSError:
        return []
    return [path for path in sorted(candidates) if remove_copy(path)]
