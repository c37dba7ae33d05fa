"""The load benchmark's generator and figures: open-loop deliveries, latency percentiles, steal time."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.support.webhooks import sign


@dataclass(frozen=True)
class Figures:
    name: str
    sent: int
    accepted: int
    elapsed: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    jobs: int
    load: float  # the machine's 1-minute load average when the run ended (other processes count too)
    steal: float  # share of CPU time the hypervisor gave to other machines during the run (Linux)

    def line(self) -> str:
        return (
            f"{self.name:<13} {self.accepted / self.elapsed:8.0f}/s  p50 {self.p50_ms:6.1f} ms  "
            f"p99 {self.p99_ms:7.1f} ms  max {self.max_ms:7.1f} ms  accepted {self.accepted}/{self.sent}  "
            f"jobs {self.jobs} ({'ok' if self.jobs == self.accepted else 'MISMATCH'})  "
            f"load {self.load:.2f}  steal {self.steal:.0%}"
        )


def process_cpu(pid: int, *, children: bool = False) -> float:
    """CPU seconds (user + system) process `pid` used so far, with its living children's if asked (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split() if children else []
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(process_cpu(int(kid)) for kid in kids)


def cpu_ticks() -> tuple[int, int]:
    """(steal, total) CPU ticks since boot from /proc/stat; zeros where there is none."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


async def load(
    url: str, bodies: list[bytes], *, secret: str, prefix: str, rate: float, duration: float
) -> tuple[int, int, list[float]]:
    """Open-loop load: delivery i is due at start + i/rate; latency counts from when it was due.

    The bodies are sent in turn (several pull requests keep several workers busy).
    """
    signed = [(body, sign(body, secret)) for body in bodies]
    latencies: list[float] = []
    accepted = 0
    total = int(rate * duration)
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(index: int, due: float) -> None:
            nonlocal accepted
            body, signature = signed[index % len(signed)]
            headers = {
                "Content-Type": "application/json",
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": f"{prefix}-{index}",
                "X-Hub-Signature-256": signature,
            }
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status == 202:
                    accepted += 1
            latencies.append(time.perf_counter() - due)

        tasks: set[asyncio.Task[None]] = set()
        begin = time.perf_counter()
        for index in range(total):
            due = begin + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(index, due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
    return total, accepted, latencies


def figures(  # noqa: PLR0913 - the measurements of one run, each its own number
    name: str,
    sent: int,
    accepted: int,
    latencies: list[float],
    elapsed: float,
    jobs: int,
    ticks: tuple[int, int],
) -> Figures:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    p50 = statistics.median(ordered)
    return Figures(
        name,
        sent,
        accepted,
        elapsed,
        p50 * 1000,
        p99 * 1000,
        ordered[-1] * 1000,
        jobs,
        os.getloadavg()[0],
        steal_share(ticks),
    )


def steal_share(before: tuple[int, int]) -> float:
    steal, total = cpu_ticks()
    return (steal - before[0]) / (total - before[1]) if total > before[1] else 0.0
