"""Benchmark: tag checks against the reference registry on loopback, open and with token auth.

Measures what step 4 adds per distinct tag when the registry answers at once, so the figure is
the client's own cost (HTTP round trips, the token exchange); real registries add their latency.
Run with `.venv/bin/python -m benchmarks.registry_checks`.
"""

from __future__ import annotations

import asyncio
import os
import platform
import tempfile
import time
from pathlib import Path

import aiohttp

from bot.containers.registry import RegistryClient, parse_image
from tests.support.registry import Registry, TokenIssuer, run_registry

TAGS = 100


async def _check_all(registry: Registry, *, concurrent: bool) -> float:
    async with aiohttp.ClientSession() as session:
        client = RegistryClient(session=session)
        refs = [parse_image(f"{registry.host}/bench/image", f"v{n}") for n in range(TAGS)]
        started = time.perf_counter()
        if concurrent:  # every check misses the token cache: one token exchange each
            results = list(await asyncio.gather(*(client.tag_exists(ref) for ref in refs)))
        else:  # the first check's token serves the others
            results = [await client.tag_exists(ref) for ref in refs]
        elapsed = time.perf_counter() - started
    assert results.count("exists") == TAGS // 2, results
    return elapsed


def _measure(label: str, registry: Registry) -> None:
    for n in range(0, TAGS, 2):  # half the tags exist, half are missing
        registry.push("bench/image", f"v{n}")
    for concurrent in (True, False):
        elapsed = asyncio.run(_check_all(registry, concurrent=concurrent))
        how = "concurrently" if concurrent else "one after another"
        print(f"{label}, {how}: {TAGS} tags ({TAGS // 2} missing) in {elapsed:.2f} s, "
              f"{elapsed / TAGS * 1000:.1f} ms per tag")  # fmt: skip


def main() -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as root:
        with run_registry(Path(root) / "open") as registry:
            _measure("open registry", registry)
        issuer = TokenIssuer()
        with (
            issuer.serve() as realm,
            run_registry(Path(root) / "token", issuer=issuer, realm=realm) as registry,
        ):
            _measure("token-auth registry", registry)


if __name__ == "__main__":
    main()
