"""The old versions the audit compares with are unpacked while uv locks, not after it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.pipeline.context import Runtime
from bot.pipeline.request import parse_request
from bot.pipeline.upgrade import run_upgrade
from bot.tools.isolation import Isolation
from tests.support.repos import copy_example, git


@pytest.mark.asyncio
async def test_the_old_distribution_is_in_the_audit_cache_before_the_audit_starts(
    project_root: Path, tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = copy_example(project_root, tmp_path / "example")
    # Without checklists nothing else reads the old distributions while uv locks (step 0.5 does).
    git(repo, "rm", "-rq", ".agents/skills/upgrade-deps/checklists")
    git(repo, "commit", "-qm", "no checklists")
    cache = tmp_path / "cache"
    cached: dict[str, list[str]] = {}

    async def progress(step: str) -> None:
        if step == "audit" and step not in cached:  # the first audit, not the one after fixes
            folder = cache / "dist"
            cached[step] = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    result = await run_upgrade(
        repo, parse_request(["sglang==0.5.10"]), runtime=Runtime(environ, isolation, cache_dir=cache),
        progress=progress,
    )  # fmt: skip
    assert result.outcome in ("landed", "breaking"), result.error
    old = [name for name in cached["audit"] if name.startswith("sglang-0.5.9-")]
    assert old, cached
