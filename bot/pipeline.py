"""Runs the upgrade steps on a local checkout and returns an UpgradeResult (knows nothing of GitHub)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path

from bot.model import UpgradeResult

Progress = Callable[[str], Awaitable[None]]


async def run_upgrade(
    repo: Path,
    args: Sequence[str],
    *,
    config_path: Path | None = None,
    commit: bool = True,
    progress: Progress | None = None,
    trusted: bool = True,
    environ: Mapping[str, str],
    uv_timeout: float = 600.0,
) -> UpgradeResult:
    """Upgrade `repo` as `args` asks; see the README for the steps. Being written."""
    raise NotImplementedError
