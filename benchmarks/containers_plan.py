"""Benchmark: planning container edits over many large files (step 4's pure part); prints its figures."""

from __future__ import annotations

import time
import tracemalloc

from bot.containers import planning as containers
from bot.files.config import ContainerRule
from bot.model import Request, Requested, VersionChange

FILES = 200
LINES = 2_000


def _file(index: int) -> str:
    lines = [f"RUN echo step {index}-{n} && pip install pkg{n}==1.{n}.0" for n in range(LINES)]
    lines[10] = "FROM lmsysorg/sglang:v0.5.10-runtime AS build"
    lines[500] = "FROM lmsysorg/sglang:v0.5.10-cu130-runtime AS runtime"
    lines[1500] = "FROM python:3.11.9-slim AS tools"
    lines[900] = '    && if [ "$VARIANT" = "vllm" ]; then TORCH_VER="2.9.1"; else TORCH_VER="2.9.1"; fi \\'
    return "\n".join(lines) + "\n"


def main() -> None:
    files = {f"docker/{i}.Dockerfile": _file(i) for i in range(FILES)}
    rules = [
        (ContainerRule("sglang", ("docker/*",), image="lmsysorg/sglang:v{version}-runtime"), files),
        (
            ContainerRule(
                "torch", ("docker/*",), template='"vllm" ]; then TORCH_VER="{version}"', variant="vllm"
            ),
            files,
        ),
    ]
    changes = [
        VersionChange("sglang", ("0.5.10",), ("0.5.11",), ("vllm",), requested=True, focused=True),
        VersionChange("torch", ("2.9.1",), ("2.10.0",), ("vllm",), requested=True, focused=True),
        VersionChange("python", ("3.11.9",), ("3.12.4",), ("vllm",), requested=False, focused=False),
    ]
    request = Request((Requested("sglang", "sglang", "0.5.11"),), raw="sglang==0.5.11")
    size = sum(len(text) for text in files.values()) / 1e6
    started = time.perf_counter()
    plan = containers.plan(rules, files, changes, request)
    elapsed = time.perf_counter() - started
    tracemalloc.start()  # a second run: tracing allocations slows it down too much to time it
    containers.plan(rules, files, changes, request)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    print(f"files: {FILES} x {LINES} lines ({size:.1f} MB), 2 rules + FROM scan for 1 package without a rule")
    print(f"edits: {len(plan.edits)}, proposals: {len(plan.proposals)}")
    print(f"plan: {elapsed:.2f} s ({size / elapsed:.1f} MB/s), peak traced memory {peak:.1f} MB")


if __name__ == "__main__":
    main()
