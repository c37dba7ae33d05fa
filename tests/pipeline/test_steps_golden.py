"""The summary sections of steps 4 and 7 and the policy checks, rendered from real results, match golden."""

from __future__ import annotations

import os
from pathlib import Path

from bot.containers import planning as containers
from bot.files.config import ContainerRule, parse_config
from bot.files.manifest import Manifest
from bot.model import Request, Requested, Section, Unresolved, UpgradeResult, VersionChange
from bot.pipeline.policy import check_policy
from bot.pipeline.summary import render_summary
from bot.pipeline.verify import run_verify, verify_unresolved
from bot.text.wording import say
from bot.tools.isolation import Isolation
from tests.support.golden import assert_golden

GOLDEN = Path(__file__).parent / "golden"
DOCKERFILE = """\
FROM lmsysorg/sglang:v0.5.10-runtime AS build
FROM lmsysorg/sglang:v0.5.10-cu130-runtime AS runtime
FROM ghcr.io/acme/base:2.9.1-cuda12 AS torch
RUN if [ "$VARIANT" = "vllm" ]; then TORCH_VER="2.9.1"; else TORCH_VER="2.9.1"; fi
"""


async def test_summary_with_containers_verification_and_policy(tmp_path: Path, isolation: Isolation) -> None:
    request = Request((Requested("sglang", "sglang", "0.5.11"),), "sglang==0.5.11")
    changes = (
        VersionChange("sglang", ("0.5.10",), ("0.5.11",), ("sglang",), True, True),
        VersionChange("torch", ("2.9.1",), ("2.10.0",), ("vllm",), False, False),
    )
    rules = [
        ContainerRule("sglang", ("Dockerfile",), image="lmsysorg/sglang:v{version}-runtime"),
        ContainerRule(
            "torch", ("Dockerfile",), template='"vllm" ]; then TORCH_VER="{version}"', variant="vllm"
        ),
    ]
    plan = containers.plan([(rule, {"Dockerfile": DOCKERFILE}) for rule in rules], {}, changes, request)
    missing = say("containers", "tag_not_published", image="lmsysorg/sglang", tag="v0.5.11-cu130-runtime")
    changed = [
        edit.change("deferred", missing) if edit.new == "v0.5.11-cu130-runtime" else edit.change("written")
        for edit in plan.edits
    ]
    unrouted = containers.plan([], {"Dockerfile": DOCKERFILE}, changes[1:], request).proposals
    changed += [edit.change("proposed", say("containers", "proposed", exists="no")) for edit in unrouted]
    config = parse_config(
        {
            "verify": [
                {"name": "smoke", "run": "echo '@team <b>ok</b> `x`'; exit 1"},
                {"name": "vllm-only", "run": "true", "variants": ["vllm"]},
            ],
            "policy": {"pins": "range"},
        }
    )
    verify = await run_verify(
        tmp_path, config, ["sglang"], environ={"PATH": os.defpath}, trusted=True, isolation=isolation
    )
    manifest = Manifest(
        '[project]\nname = "x"\nversion = "1"\ndependencies = ["sglang==0.5.11"]\n', display="pyproject.toml"
    )
    deferred = say(
        "containers",
        "deferred_item",
        old="v0.5.10-cu130-runtime",
        new="v0.5.11-cu130-runtime",
        reason=missing,
    )
    result = UpgradeResult(
        request=request,
        outcome="attention",
        date="2026-11-23",
        changes=changes,
        containers=tuple(changed),
        verify=verify,
        unresolved=(
            Unresolved("tag-deferred", deferred, "Dockerfile", 2, blocking=False),
            *verify_unresolved(verify),
            *check_policy(config, {"pyproject.toml": manifest}, {}),
        ),
        sections={name: Section("done") for name in ("pins", "lock", "containers", "verify")},
    )
    assert_golden(render_summary(result), GOLDEN / "summary-containers-verify-policy.md")
