"""Drives the pinned uv: `uv lock` for a variant, swapping a non-default manifest into place."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from bot.errors import LockTimeoutError, ToolError
from bot.files import repofiles
from bot.model import Extra, Variant
from bot.tools.isolation import Isolation
from bot.tools.proc import Completed, run

# Originals of swapped files live here while a swap is in progress, so a killed run can be undone.
SWAP_DIR = "upgrade-deps-swap"


def uv_binary() -> str:
    """The uv executable shipped by the `uv` package we depend on (never whatever is on PATH)."""
    from uv import find_uv_bin

    return str(find_uv_bin())


def slots(variant: Variant) -> tuple[str, str]:
    """Where uv expects this variant's files: `pyproject.toml` and `uv.lock` beside its manifest."""
    folder = PurePosixPath(variant.manifest).parent
    return str(folder / "pyproject.toml"), str(folder / "uv.lock")


def needs_swap(variant: Variant) -> bool:
    return slots(variant) != (variant.manifest, variant.lock)


class Locker:
    """Runs `uv lock` for variants of one repository."""

    def __init__(
        self, repo: Path, *, env: Mapping[str, str], timeout: float, git_dir: Path, isolation: Isolation,
        extras: Sequence[Extra] = (),
    ) -> None:  # fmt: skip
        self.repo = repo
        self.env = env
        self.timeout = timeout
        self.swap_dir = git_dir / SWAP_DIR
        self.isolation = isolation
        # Paths outside the work tree the manifests reference; those inside are copied with a scratch copy.
        inside = repo.resolve()
        self.extras = tuple(e for e in extras if not e.path.resolve().is_relative_to(inside))

    async def lock(
        self, variant: Variant, *, pins: Sequence[str] = (), root: Path | None = None,
        resolution: str | None = None,
    ) -> Completed:  # fmt: skip
        """Lock `variant` (in `root`, default the repository); `pins` are `pkg==ver` upgrade targets;
        `resolution` is uv's `--resolution` strategy (`lowest-direct`), uv's default when None.

        For a variant whose files are not `pyproject.toml`/`uv.lock`, those are swapped into place and
        every file is restored afterwards, whatever happens (failure, timeout, cancellation).
        """
        base = root or self.repo
        if not needs_swap(variant):
            return await self._uv_lock(base, base / PurePosixPath(variant.manifest).parent, pins, resolution)
        manifest_slot, lock_slot = slots(variant)
        backup = self.swap_dir if root is None else base / ".upgrade-deps-swap"
        originals = self._swap_in(base, variant, manifest_slot, lock_slot, backup)
        try:
            result = await self._uv_lock(base, base / PurePosixPath(manifest_slot).parent, pins, resolution)
            if result.returncode == 0:
                repofiles.copy(base, lock_slot, variant.lock)
            return result
        finally:
            restore_swap(base, backup, originals)

    def _swap_in(
        self, base: Path, variant: Variant, manifest_slot: str, lock_slot: str, backup: Path
    ) -> dict[str, bool]:
        backup.mkdir(parents=True, exist_ok=True)
        originals: dict[str, bool] = {}
        for slot in (manifest_slot, lock_slot):
            existed = (base / slot).exists()
            originals[slot] = existed
            if existed:
                (backup / slot.replace("/", "__")).write_bytes(repofiles.read_bytes(base, slot))
        (backup / "MANIFEST").write_text(
            "\n".join(f"{slot}\t{int(existed)}" for slot, existed in originals.items()), encoding="utf-8"
        )
        repofiles.copy(base, variant.manifest, manifest_slot)
        if repofiles.exists(base, variant.lock):
            repofiles.copy(base, variant.lock, lock_slot)
        else:
            repofiles.unlink(base, lock_slot)
        return originals

    async def _uv_lock(self, base: Path, cwd: Path, pins: Sequence[str], resolution: str | None) -> Completed:
        argv = [uv_binary(), "lock", "--no-progress", "--color", "never"]
        if resolution is not None:
            argv += ["--resolution", resolution]
        for pin in pins:
            argv += ["--upgrade-package", pin]
        # uv may build the project or a path dependency: their backends are the repository's code.
        launch = self.isolation.launch(argv, cwd=cwd, env=self.env, writable=[base], extras=self.extras)
        try:
            result = await run(launch.argv, cwd=cwd, env=launch.env, timeout=self.timeout)
        except OSError as exc:
            raise ToolError(f"could not start uv: {exc.strerror}") from None
        if result.timed_out:
            raise LockTimeoutError(f"uv lock did not finish within {self.timeout:g} s in {cwd.name or cwd}")
        return result


def restore_swap(base: Path, backup: Path, originals: Mapping[str, bool] | None = None) -> bool:
    """Put swapped-out files back from `backup`; returns whether there was anything to restore."""
    index = backup / "MANIFEST"
    if originals is None:
        if not index.exists():
            return False
        originals = {
            slot: flag == "1"
            for slot, _, flag in (line.partition("\t") for line in index.read_text().splitlines())
        }
    for slot, existed in originals.items():
        saved = backup / slot.replace("/", "__")
        if existed:
            repofiles.write_bytes(base, slot, saved.read_bytes())
        else:
            repofiles.unlink(base, slot)
    shutil.rmtree(backup, ignore_errors=True)
    return True
