"""A throwaway copy of the repository in which one variant is locked with other manifests, to try."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from bot.files import repofiles
from bot.files.lockfile import read_lock
from bot.model import Variant
from bot.tools.proc import Completed
from bot.tools.uv import Locker

_IGNORED = ("__pycache__", ".venv", "node_modules", ".git", ".mypy_cache", ".ruff_cache", ".pytest_cache")


class Scratch:
    """Each trial starts from the variant's lock as the repository has it, so no trial's resolution
    becomes the next one's preference."""

    def __init__(self, root: Path, variant: Variant, *, locker: Locker, pins: Sequence[str]) -> None:
        self.root = root
        self.variant = variant
        self.locker = locker
        self.pins = list(pins)
        exists = repofiles.exists(root, variant.lock)
        self._lock = repofiles.read_bytes(root, variant.lock) if exists else None

    async def lock(
        self, manifest_text: str, *, resolution: str | None = None, pins: Sequence[str] | None = None,
        members: Mapping[str, str] | None = None,
    ) -> Completed:  # fmt: skip
        """Lock the variant with `manifest_text` as its manifest (uv's `--resolution`, if given;
        `pins`, the upgrade targets, default all of the run's; `members`, its workspace members'
        manifests by path, each trial writing them all)."""
        repofiles.write_text(self.root, self.variant.manifest, manifest_text)
        for path, text in (members or {}).items():
            repofiles.write_text(self.root, path, text)
        if self._lock is None:
            repofiles.unlink(self.root, self.variant.lock)
        else:
            repofiles.write_bytes(self.root, self.variant.lock, self._lock)
        targets = self.pins if pins is None else list(pins)
        return await self.locker.lock(self.variant, pins=targets, root=self.root, resolution=resolution)

    def versions(self) -> dict[str, tuple[str, ...]]:
        """What the last trial that succeeded resolved."""
        return read_lock(self.root, self.variant.lock).versions()


@contextmanager
def scratch_copy(repo: Path, variant: Variant, *, locker: Locker, pins: Sequence[str]) -> Iterator[Scratch]:
    """A copy of `repo` (without .git, virtual environments and caches), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="upgrade-deps-scratch-") as tmp:
        root = Path(tmp) / "repo"
        shutil.copytree(repo, root, ignore=shutil.ignore_patterns(*_IGNORED), symlinks=True)
        yield Scratch(root, variant, locker=locker, pins=pins)
