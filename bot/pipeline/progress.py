"""Announces a step when it starts, says it is still running every few seconds, and how long it took."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable

Progress = Callable[[str], Awaitable[None]]
STILL_RUNNING = 5.0  # seconds between "still running" lines of a long step


def duration(seconds: float) -> str:
    return f"{seconds:.1f} s"


@contextlib.asynccontextmanager
async def announced(progress: Progress, step: str, *, every: float = STILL_RUNNING) -> AsyncIterator[None]:
    """`step` when the block starts, `step still running (10 s)` while it runs, `step 11.2 s` when it
    has finished (not when it failed: the run's outcome says that)."""
    await progress(step)
    start = time.monotonic()

    async def remind() -> None:
        while True:
            await asyncio.sleep(every)
            await progress(f"{step} still running ({time.monotonic() - start:.0f} s)")

    reminder = asyncio.ensure_future(remind())
    try:
        yield
    finally:
        reminder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reminder
    await progress(f"{step} {duration(time.monotonic() - start)}")
