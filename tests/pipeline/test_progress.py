"""Each step says when it starts, that it is still running, and how long it took."""

from __future__ import annotations

import asyncio

import pytest

from bot.pipeline.progress import announced


@pytest.mark.asyncio
async def test_a_long_step_says_it_is_still_running_then_how_long_it_took() -> None:
    seen: list[str] = []

    async def progress(step: str) -> None:
        seen.append(step)

    async with announced(progress, "lock vllm", every=0.05):
        await asyncio.sleep(0.18)
    assert seen[0] == "lock vllm"
    assert seen[1:-1] and all(s.startswith("lock vllm still running (") for s in seen[1:-1])
    name, seconds, unit = seen[-1].rsplit(" ", 2)
    assert (name, unit) == ("lock vllm", "s") and 0.1 < float(seconds) < 5


@pytest.mark.asyncio
async def test_a_failed_step_reports_no_duration_and_stops_reminding() -> None:
    seen: list[str] = []

    async def progress(step: str) -> None:
        seen.append(step)

    async def failing() -> None:
        async with announced(progress, "audit", every=0.01):
            await asyncio.sleep(0.035)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await failing()
    count = len(seen)
    await asyncio.sleep(0.05)
    assert len(seen) == count and not seen[-1].endswith(" s")
