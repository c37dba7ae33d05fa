"""Steps 4 and 7 inside the real pipeline: a loopback registry, real uv, real git, real commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import OUTCOMES
from bot.pipeline.context import RunOptions, Runtime
from bot.pipeline.request import parse_request
from bot.pipeline.summary import render_summary
from bot.pipeline.upgrade import run_upgrade
from bot.tools.isolation import Isolation
from tests.support.registry import Registry
from tests.support.repos import VLLM_MANIFEST, dual_repo, git, snapshot

pytest_plugins = ["tests.support.registry_fixtures"]
pytestmark = pytest.mark.asyncio

DOCKERFILE = """\
ARG VARIANT=sglang
FROM {host}/lmsysorg/sglang:v0.5.9-runtime AS base
RUN echo build
FROM {host}/lmsysorg/sglang:v0.5.9-cu130-runtime AS cuda13
"""


def config(host: str, verify: str = "") -> str:
    return f"""\
[[variant]]
name = "sglang"
manifest = "pyproject.toml"
[[variant]]
name = "vllm"
manifest = "pyproject.vllm.toml"

[[container]]
package = "sglang"
files = ["Dockerfile"]
image = "{host}/lmsysorg/sglang:v{{version}}-runtime"
{verify}"""


async def test_published_tag_is_written_missing_one_deferred_and_verification_reported(
    tmp_path: Path, environ: dict[str, str], registry: Registry, isolation: Isolation
) -> None:
    registry.push("lmsysorg/sglang", "v0.5.10-runtime")  # the cu130 image of 0.5.10 is not published
    verify = """
[[verify]]
name = "smoke"
run = "grep -q 'sglang==0.5.10' pyproject.toml && echo smoke-ok"
[[verify]]
name = "broken"
run = "echo first; echo last; exit 3"
variants = ["sglang"]
[[verify]]
name = "vllm-only"
run = "true"
variants = ["vllm"]
"""
    repo = dual_repo(
        tmp_path,
        **{
            "Dockerfile": DOCKERFILE.format(host=registry.host),
            ".github/upgrade-deps.toml": config(registry.host, verify),
        },
    )
    result = await run_upgrade(
        repo,
        parse_request(["sglang==0.5.10", "transformers==4.57.1@sglang"]),
        runtime=Runtime(environ, isolation),
    )
    assert result.outcome == "attention", result
    assert OUTCOMES[result.outcome].exit_code == 3
    dockerfile = (repo / "Dockerfile").read_text()
    assert f"FROM {registry.host}/lmsysorg/sglang:v0.5.10-runtime AS base" in dockerfile
    # Never written: the tag does not exist.
    assert f"FROM {registry.host}/lmsysorg/sglang:v0.5.9-cu130-runtime AS cuda13" in dockerfile
    statuses = {(c.line, c.status) for c in result.containers}
    assert statuses == {(2, "written"), (4, "deferred")}
    deferred = [u for u in result.unresolved if u.kind == "tag-deferred"]
    assert len(deferred) == 1 and (deferred[0].file, deferred[0].line) == ("Dockerfile", 4)
    assert "v0.5.10-cu130-runtime" in deferred[0].message
    assert [(v.name, v.status) for v in result.verify] == [
        ("smoke", "pass"),
        ("broken", "fail"),
        ("vllm-only", "skipped"),
    ]
    assert "last" in result.verify[1].detail
    subjects = [c.message.splitlines()[0] for c in result.commits]
    assert len(subjects) == 3 and subjects[0].startswith("Pin ")
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == ["Dockerfile"]
    summary = render_summary(result)
    assert "v0.5.10-cu130-runtime" in summary and "deferred" in summary
    assert "- broken: fail" in summary


async def test_unreachable_registry_defers_and_forks_touch_nothing(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    host = "127.0.0.1:9"  # discard port: nothing listens
    repo = dual_repo(
        tmp_path,
        **{"Dockerfile": DOCKERFILE.format(host=host), ".github/upgrade-deps.toml": config(host)},
    )
    before = snapshot(repo)
    result = await run_upgrade(
        repo,
        parse_request(["sglang==0.5.10", "transformers==4.57.1@sglang"]),
        runtime=Runtime(environ, isolation),
    )
    assert result.outcome == "attention"
    assert (repo / "Dockerfile").read_bytes() == before["Dockerfile"]
    assert {c.status for c in result.containers} == {"deferred"}
    git(repo, "reset", "-q", "--hard", "HEAD~2")
    untrusted = await run_upgrade(
        repo,
        parse_request(["sglang==0.5.10", "transformers==4.57.1@sglang"]),
        runtime=Runtime(environ, isolation),
        options=RunOptions(commit=False, trusted=False),
    )
    assert untrusted.outcome == "landed"
    assert untrusted.sections["containers"].status == "not run"
    assert (repo / "Dockerfile").read_bytes() == before["Dockerfile"]


async def test_downgrade_is_refused_before_any_edit(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = dual_repo(tmp_path)
    before = snapshot(repo)
    result = await run_upgrade(
        repo, parse_request(["transformers==4.50.0"]), runtime=Runtime(environ, isolation)
    )
    assert result.outcome == "refused"
    assert result.error is not None and "transformers==4.50.0" in result.error
    assert snapshot(repo) == before


async def test_a_package_pinned_per_variant_asks_for_a_variant_before_calling_it_a_downgrade(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    # AReaL's shape: transformers capped in one variant (locks 4.56.0), free in the other (4.57.1).
    # 4.56.0 would downgrade only the second; the useful answer is "say which variant".
    vllm = VLLM_MANIFEST.replace('"transformers==4.56.0"', '"transformers>=4.56"')
    repo = dual_repo(tmp_path, **{"pyproject.vllm.toml": vllm})
    before = snapshot(repo)
    result = await run_upgrade(
        repo, parse_request(["transformers==4.56.0"]), runtime=Runtime(environ, isolation)
    )
    assert result.outcome == "refused"
    assert result.error is not None
    assert "pinned differently per variant" in result.error and "downgrade" not in result.error
    assert "transformers==4.56.0@<variant>" in result.error
    assert snapshot(repo) == before


async def test_without_rules_an_offline_repository_still_gets_from_proposals_not_verified(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    # Locks from a local wheelhouse (no-index, find-links): nothing of this run needs a network.
    dockerfile = "FROM lmsysorg/sglang:v0.5.9-cu129-amd64-runtime AS base\nRUN echo build\n"
    repo = dual_repo(tmp_path, Dockerfile=dockerfile)
    result = await run_upgrade(repo, parse_request(["sglang==0.5.10"]), runtime=Runtime(environ, isolation))
    assert result.outcome in ("landed", "breaking"), result
    [proposal] = result.containers
    assert (proposal.file, proposal.line, proposal.status) == ("Dockerfile", 1, "proposed")
    assert (proposal.old, proposal.new) == ("v0.5.9-cu129-amd64-runtime", "v0.5.10-cu129-amd64-runtime")
    assert proposal.reason.endswith(
        "not verified: the repository locks without a network, so its registry was not asked"
    )
    assert (repo / "Dockerfile").read_text() == dockerfile  # proposed, never written
    docker = render_summary(result).split("### Dockerfile Changes")[1].split("###")[0]
    assert "No changes required" not in docker and "v0.5.10-cu129-amd64-runtime" in docker
