"""Step 4 end to end: rules over a repository, tags checked in the real loopback registry, files written."""

from __future__ import annotations

from pathlib import Path

from bot.containers.container_step import update_containers
from bot.containers.registry import RegistryClient
from bot.files.config import parse_config
from bot.files.transaction import FileTransaction
from bot.model import Request, Requested, VersionChange
from tests.support.http import free_port
from tests.support.registry import Registry

pytest_plugins = ["tests.support.registry_fixtures"]

SGLANG = [VersionChange("sglang", ("0.5.10",), ("0.5.11",), ("default",), requested=True, focused=True)]
TORCH = [VersionChange("torch", ("2.9.1",), ("2.10.0",), ("vllm",), requested=True, focused=True)]
REQUEST = Request((Requested("sglang", "sglang", "0.5.11"),), raw="sglang==0.5.11")


def _repo(tmp_path: Path, host: str) -> Path:
    (tmp_path / "container").mkdir()
    (tmp_path / "Dockerfile").write_text(
        f"ARG RUNTIME_IMAGE_TAG=v0.5.10-runtime\n"
        f"FROM {host}/lmsysorg/sglang:v0.5.10-runtime AS build\n"
        f"FROM {host}/lmsysorg/sglang:v0.5.10-cu130-runtime AS runtime\n"
        f"FROM {host}/acme/base:2.9.1-cuda12 AS torch\n"
    )
    (tmp_path / "container" / "context.yaml").write_text(
        "runtime_image_tag: v0.5.10-runtime\ncu130:\n  runtime_image_tag: v0.5.10-cu130-runtime\n"
    )
    return tmp_path


def _config(host: str) -> object:
    return parse_config(
        {"container": [{"package": "sglang", "files": ["Dockerfile", "container/*.yaml"],
                        "image": f"{host}/lmsysorg/sglang:v{{version}}-runtime"}]}
    )  # fmt: skip


async def test_published_tags_are_written_missing_ones_deferred(
    tmp_path: Path, registry: Registry, client: RegistryClient
) -> None:
    repo = _repo(tmp_path, registry.host)
    config = _config(registry.host)
    outcome = await update_containers(repo, config, SGLANG + TORCH, REQUEST, registry=client)  # type: ignore[arg-type]
    assert [(c.file, c.line, c.new, c.status) for c in outcome.changes] == [
        ("Dockerfile", 1, "v0.5.11-runtime", "written"),
        ("Dockerfile", 2, "v0.5.11-runtime", "written"),
        ("Dockerfile", 3, "v0.5.11-cu130-runtime", "deferred"),
        ("Dockerfile", 4, "2.10.0-cuda12", "proposed"),
        ("container/context.yaml", 1, "v0.5.11-runtime", "written"),
        ("container/context.yaml", 3, "v0.5.11-cu130-runtime", "deferred"),
    ]
    deferred = outcome.changes[2]
    assert deferred.reason == (
        f"tag not published: {registry.host}/lmsysorg/sglang:v0.5.11-cu130-runtime "
        "does not exist in its registry"
    )
    assert outcome.changes[3].reason.endswith("; the tag exists in its registry")
    assert [(u.kind, u.file, u.line, u.blocking) for u in outcome.unresolved] == [
        ("tag-deferred", "Dockerfile", 3, False),
        ("tag-deferred", "container/context.yaml", 3, False),
    ]
    assert (repo / "Dockerfile").read_text() == (
        "ARG RUNTIME_IMAGE_TAG=v0.5.11-runtime\n"
        f"FROM {registry.host}/lmsysorg/sglang:v0.5.11-runtime AS build\n"
        f"FROM {registry.host}/lmsysorg/sglang:v0.5.10-cu130-runtime AS runtime\n"
        f"FROM {registry.host}/acme/base:2.9.1-cuda12 AS torch\n"
    )
    assert (repo / "container" / "context.yaml").read_text() == (
        "runtime_image_tag: v0.5.11-runtime\ncu130:\n  runtime_image_tag: v0.5.10-cu130-runtime\n"
    )


async def test_explicit_tag_is_checked_too(
    tmp_path: Path, registry: Registry, client: RegistryClient
) -> None:
    registry.push("lmsysorg/sglang", "v0.5.11.post1-cu130-runtime")
    repo = _repo(tmp_path, registry.host)
    request = Request(REQUEST.items, raw="", image_tag="v0.5.11.post1-cu130-runtime")
    outcome = await update_containers(repo, _config(registry.host), SGLANG, request, registry=client)  # type: ignore[arg-type]
    assert {(c.line, c.new, c.status) for c in outcome.changes if c.file == "Dockerfile"} == {
        (1, "v0.5.11-runtime", "written"), (2, "v0.5.11-runtime", "written"),
        (3, "v0.5.11.post1-cu130-runtime", "written"),
    }  # fmt: skip
    assert outcome.unresolved == ()


async def test_unreachable_registry_defers_everything_and_leaves_files(
    tmp_path: Path, client: RegistryClient
) -> None:
    host = f"127.0.0.1:{free_port()}"
    repo = _repo(tmp_path, host)
    before = (repo / "Dockerfile").read_text(), (repo / "container" / "context.yaml").read_text()
    outcome = await update_containers(repo, _config(host), SGLANG, REQUEST, registry=client)  # type: ignore[arg-type]
    assert {c.status for c in outcome.changes} == {"deferred"}
    assert all(f"could not check {host}/lmsysorg/sglang:" in c.reason for c in outcome.changes)
    assert all(f"registry {host} unreachable (cannot connect:" in c.reason for c in outcome.changes)
    assert len(outcome.unresolved) == 5 and {u.kind for u in outcome.unresolved} == {"tag-deferred"}
    assert ((repo / "Dockerfile").read_text(), (repo / "container" / "context.yaml").read_text()) == before


async def test_template_rules_need_no_registry_and_unmatched_globs_are_reported(
    tmp_path: Path, client: RegistryClient
) -> None:
    (tmp_path / "Dockerfile").write_text('RUN if [ "$VARIANT" = "vllm" ]; then TORCH_VER="2.9.1"; fi\n')
    config = parse_config(
        {"container": [
            {"package": "torch", "variant": "vllm", "files": ["Dockerfile"],
             "template": '"$VARIANT" = "vllm" ]; then TORCH_VER="{version}"'},
            {"package": "torch", "files": ["docker/*.Dockerfile"], "template": "TORCH={version}"},
        ]}
    )  # fmt: skip
    outcome = await update_containers(tmp_path, config, TORCH, REQUEST, registry=client)
    assert [(c.line, c.new, c.status) for c in outcome.changes] == [
        (1, '"$VARIANT" = "vllm" ]; then TORCH_VER="2.10.0"', "written")
    ]
    assert (
        tmp_path / "Dockerfile"
    ).read_text() == 'RUN if [ "$VARIANT" = "vllm" ]; then TORCH_VER="2.10.0"; fi\n'
    assert [(u.kind, u.blocking) for u in outcome.unresolved] == [("container", False)]
    assert "docker/*.Dockerfile" in outcome.unresolved[0].message


async def test_scan_skips_tool_directories_and_reports_binary_files(
    tmp_path: Path, registry: Registry, client: RegistryClient
) -> None:
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "Dockerfile").write_text(f"FROM {registry.host}/acme/base:2.9.1-cuda12\n")
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "gpu.Dockerfile").write_text(f"FROM {registry.host}/acme/base:2.9.1-cuda12\n")
    (tmp_path / "Dockerfile.bin").write_bytes(b"\xff\xfe\x00FROM")
    outcome = await update_containers(tmp_path, parse_config({}), TORCH, REQUEST, registry=client)
    assert [(c.file, c.status, c.new) for c in outcome.changes] == [
        ("docker/gpu.Dockerfile", "proposed", "2.10.0-cuda12")
    ]
    assert [(u.file, u.message) for u in outcome.unresolved] == [
        ("Dockerfile.bin", "not read for container references: the file is not UTF-8 text")
    ]


async def test_pipeline_write_hook_and_commit_message(
    tmp_path: Path, registry: Registry, client: RegistryClient
) -> None:
    repo = _repo(tmp_path, registry.host)
    before = (repo / "Dockerfile").read_text()
    files = FileTransaction(repo)
    outcome = await update_containers(
        repo,
        _config(registry.host),
        SGLANG,
        REQUEST,
        registry=client,
        write=files.write,  # type: ignore[arg-type]
    )
    assert outcome.files == ("Dockerfile", "container/context.yaml")
    assert files.changed() == ["Dockerfile", "container/context.yaml"]
    missing = f"{registry.host}/lmsysorg/sglang:v0.5.11-cu130-runtime does not exist in its registry"
    assert outcome.commit_message() == (
        "Update container references for sglang\n\n"
        "Every new image tag below was found in its registry before it was written.\n\n"
        "- Dockerfile:1: v0.5.10-runtime -> v0.5.11-runtime\n"
        "- Dockerfile:2: v0.5.10-runtime -> v0.5.11-runtime\n"
        "- container/context.yaml:1: v0.5.10-runtime -> v0.5.11-runtime\n"
        "\nDeferred (not written):\n\n"
        f"- Dockerfile:3: v0.5.11-cu130-runtime: tag not published: {missing}\n"
        f"- container/context.yaml:3: v0.5.11-cu130-runtime: tag not published: {missing}\n"
    )
    files.restore()
    assert (repo / "Dockerfile").read_text() == before


async def test_digest_pinned_references_get_the_new_tags_digest(
    tmp_path: Path, registry: Registry, client: RegistryClient
) -> None:
    digest = registry.push("lmsysorg/sglang", "v0.5.11-runtime")
    stale = "sha256:" + "0" * 64
    (tmp_path / "Dockerfile").write_text(
        f"FROM {registry.host}/lmsysorg/sglang:v0.5.10-runtime@{stale} AS a\n"
        f"FROM {registry.host}/lmsysorg/sglang:v0.5.10-cu130-runtime@{stale} AS b\n"
    )
    outcome = await update_containers(tmp_path, _config(registry.host), SGLANG, REQUEST, registry=client)  # type: ignore[arg-type]
    assert [(c.line, c.old, c.new, c.status) for c in outcome.changes] == [
        (1, f"v0.5.10-runtime@{stale}", f"v0.5.11-runtime@{digest}", "written"),
        (2, f"v0.5.10-cu130-runtime@{stale}", "v0.5.11-cu130-runtime", "deferred"),
    ]
    assert (tmp_path / "Dockerfile").read_text().splitlines()[0] == (
        f"FROM {registry.host}/lmsysorg/sglang:v0.5.11-runtime@{digest} AS a"
    )
    again = await update_containers(tmp_path, _config(registry.host), SGLANG, REQUEST, registry=client)  # type: ignore[arg-type]
    assert [(c.line, c.status) for c in again.changes] == [(2, "deferred")]
