"""Container rules over real-shaped files: image references, bare tags, version maps, proposals."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.containers import planning as containers
from bot.errors import ConfigError
from bot.files.config import ContainerRule, parse_config
from bot.model import Request, Requested, VersionChange

DATA = Path(__file__).resolve().parents[1] / "fixtures" / "containers"
SGLANG_IMAGE = "lmsysorg/sglang:v{version}-runtime"


def _text(name: str) -> str:
    return (DATA / name).read_text()


def _change(package: str, old: str, new: str, variants: tuple[str, ...] = ("default",)) -> VersionChange:
    return VersionChange(package, (old,), (new,), variants, requested=True, focused=True)


def _request(*items: tuple[str, str], image_tag: str | None = None) -> Request:
    return Request(
        tuple(Requested(name, name, version) for name, version in items), raw="", image_tag=image_tag
    )


def _applied(plan: containers.ContainerPlan, name: str, text: str) -> str:
    return containers.apply(text, [e for e in plan.edits if e.file == name])


def test_image_rule_rewrites_every_stage_and_bare_tag_keeping_variants() -> None:
    text = _text("Dockerfile.two-stage")
    rule = ContainerRule("sglang", ("Dockerfile",), image=SGLANG_IMAGE)
    plan = containers.plan(
        [(rule, {"Dockerfile": text})],
        {},
        [_change("sglang", "0.5.10", "0.5.11")],
        _request(("sglang", "0.5.11")),
    )
    assert [(e.line, e.old, e.new, e.image) for e in plan.edits] == [
        (2, "v0.5.10-runtime", "v0.5.11-runtime", "lmsysorg/sglang"),
        (3, "v0.5.10-runtime", "v0.5.11-runtime", "lmsysorg/sglang"),
        (5, "v0.5.10-cu130-runtime", "v0.5.11-cu130-runtime", "lmsysorg/sglang"),
    ]
    new = _applied(plan, "Dockerfile", text)
    assert "FROM lmsysorg/sglang:v0.5.11-runtime AS build" in new
    assert "FROM docker.io/lmsysorg/sglang:v0.5.11-cu130-runtime AS runtime" in new
    assert "ARG RUNTIME_IMAGE_TAG=v0.5.11-runtime" in new
    assert "FROM python:3.12-slim AS tools" in new
    assert new.count("\n") == text.count("\n")


def test_image_rule_over_yaml_and_markdown_leaves_other_images_alone() -> None:
    rule = ContainerRule("sglang", ("container/*",), image=SGLANG_IMAGE)
    files = {"container/context.yaml": _text("context.yaml"), "container/README.md": _text("README.md")}
    plan = containers.plan([(rule, files)], {}, [_change("sglang", "0.5.10", "0.5.11")], _request())
    yaml = _applied(plan, "container/context.yaml", files["container/context.yaml"])
    table = _applied(plan, "container/README.md", files["container/README.md"])
    assert "runtime_image_tag: v0.5.11-runtime" in yaml
    assert 'runtime_image_tag: "v0.5.11-cu130-runtime"' in yaml
    assert "lmsysorg/sglang-router:v0.5.10" in yaml
    assert "| lmsysorg/sglang:v0.5.11-runtime | default runtime |" in table
    assert "| lmsysorg/sglang:v0.5.11-cu130-runtime | CUDA 13 runtime |" in table
    assert "| lmsysorg/sglang-router:v0.5.10 | router, versioned separately |" in table
    assert sorted((e.file, e.line) for e in plan.edits) == [
        ("container/README.md", 5), ("container/README.md", 6),
        ("container/context.yaml", 3), ("container/context.yaml", 5),
    ]  # fmt: skip


def test_variant_template_rules_rewrite_only_their_branch() -> None:
    text = _text("Dockerfile.areal")
    branch = '"$VARIANT" = "vllm" ]; then '
    templates = [branch + 'TORCH_VER="{version}"', branch + 'TORCH_TAG="torch{major}.{minor}"']
    rules = [ContainerRule("torch", ("Dockerfile",), template=t, variant="vllm") for t in templates]
    changes = [_change("torch", "2.9.1", "2.10.0", ("vllm",))]
    plan = containers.plan([(rule, {"Dockerfile": text}) for rule in rules], {}, changes, _request())
    new = _applied(plan, "Dockerfile", text)
    assert 'then TORCH_VER="2.10.0"; else TORCH_VER="2.9.1"; fi' in new
    assert new.count('then TORCH_TAG="torch2.10"; else TORCH_TAG="torch2.9"; fi') == 2
    assert [(e.line, e.image) for e in plan.edits] == [(4, None), (7, None), (10, None)]
    assert "FROM lmsysorg/sglang:v0.5.9-cu129-amd64-runtime" in new


def test_template_rule_for_another_variant_does_nothing() -> None:
    rule = ContainerRule("torch", ("Dockerfile",), template='else TORCH_VER="{version}"', variant="default")
    changes = [_change("torch", "2.9.1", "2.10.0", ("vllm",))]
    plan = containers.plan([(rule, {"Dockerfile": _text("Dockerfile.areal")})], {}, changes, _request())
    assert plan.edits == ()


def test_explicit_request_tag_wins_for_references_of_its_shape() -> None:
    text = _text("Dockerfile.two-stage")
    rule = ContainerRule("sglang", ("Dockerfile",), image=SGLANG_IMAGE)
    request = _request(("sglang", "0.5.11"), image_tag="v0.5.11.post1-cu130-runtime")
    plan = containers.plan(
        [(rule, {"Dockerfile": text})], {}, [_change("sglang", "0.5.10", "0.5.11")], request
    )
    assert [e.new for e in plan.edits] == [
        "v0.5.11-runtime",
        "v0.5.11-runtime",
        "v0.5.11.post1-cu130-runtime",
    ]
    assert plan.unresolved == ()


def test_rule_tag_wins_over_template_and_unmatched_request_tag_is_reported() -> None:
    rule = ContainerRule("sglang", ("Dockerfile",), image=SGLANG_IMAGE, tag="nightly-20260101")
    request = _request(("torch", "2.10.0"), image_tag="v9-other")
    text = "FROM lmsysorg/sglang:v0.5.10-runtime\n"
    plan = containers.plan(
        [(rule, {"Dockerfile": text})], {}, [_change("sglang", "0.5.10", "0.5.11")], request
    )
    assert [e.new for e in plan.edits] == ["nightly-20260101"]
    assert [u.kind for u in plan.unresolved] == ["container"]
    assert "--image-tag v9-other matches no image reference" in plan.unresolved[0].message


def test_digest_pinned_reference_is_planned_with_its_digest() -> None:
    rule = ContainerRule("sglang", ("Dockerfile",), image=SGLANG_IMAGE)
    text = "FROM lmsysorg/sglang:v0.5.10-runtime@sha256:" + "a" * 64 + " AS base\n"
    changes = [_change("sglang", "0.5.10", "0.5.11")]
    [edit] = containers.plan([(rule, {"Dockerfile": text})], {}, changes, _request()).edits
    assert (edit.old, edit.new, edit.tag, edit.pinned) == (
        "v0.5.10-runtime@sha256:" + "a" * 64, "v0.5.11-runtime", "v0.5.11-runtime", True,
    )  # fmt: skip


def test_without_rules_from_lines_are_proposed_not_planned() -> None:
    text = _text("Dockerfile.two-stage") + "FROM ghcr.io/acme/torch-base:2.9.1-cuda12 AS torch\n"
    changes = [_change("sglang", "0.5.10", "0.5.11"), _change("torch", "2.9.1", "2.10.0")]
    plan = containers.plan([], {"Dockerfile": text}, changes, _request())
    assert plan.edits == ()
    assert [(p.package, p.line, p.image, p.old, p.new) for p in plan.proposals] == [
        ("sglang", 3, "lmsysorg/sglang", "v0.5.10-runtime", "v0.5.11-runtime"),
        ("sglang", 5, "docker.io/lmsysorg/sglang", "v0.5.10-cu130-runtime", "v0.5.11-cu130-runtime"),
        ("torch", 8, "ghcr.io/acme/torch-base", "2.9.1-cuda12", "2.10.0-cuda12"),
    ]


def test_old_version_must_match_whole_not_as_a_prefix() -> None:
    plan = containers.plan(
        [], {"Dockerfile": "FROM acme/app:1.2.10\nFROM acme/app:1.2.1-slim\n"},
        [_change("app", "1.2.1", "1.3.0")], _request(),
    )  # fmt: skip
    assert [(p.line, p.new) for p in plan.proposals] == [(2, "1.3.0-slim")]


def test_ambiguous_version_without_variant_is_reported() -> None:
    rule = ContainerRule("torch", ("Dockerfile",), template='TORCH_VER="{version}"')
    changes = [
        _change("torch", "2.9.0", "2.9.1", ("default",)),
        _change("torch", "2.9.1", "2.10.0", ("vllm",)),
    ]
    plan = containers.plan([(rule, {"Dockerfile": 'TORCH_VER="2.9.0"\n'})], {}, changes, _request())
    assert plan.edits == ()
    assert "follows no single version" in plan.unresolved[0].message


def test_apply_refuses_a_stale_plan() -> None:
    rule = ContainerRule("sglang", ("Dockerfile",), image=SGLANG_IMAGE)
    text = "FROM lmsysorg/sglang:v0.5.10-runtime\n"
    plan = containers.plan(
        [(rule, {"Dockerfile": text})], {}, [_change("sglang", "0.5.10", "0.5.11")], _request()
    )
    with pytest.raises(ValueError, match="Dockerfile:1"):
        containers.apply("FROM other\n" + text, plan.edits)


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"image": "lmsysorg/sglang:latest"}, "needs a placeholder"),
        ({"template": 'TORCH_VER="{ver}"'}, "unknown placeholder {ver}"),
        ({"template": "no placeholder"}, "has no placeholder"),
        ({"image": "a:{version}", "template": "{version}"}, "exactly one of"),
    ],
)
def test_bad_container_rules_name_the_key(entry: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError, match=r"\[\[container\]\] #1 key") as caught:
        parse_config({"container": [{"package": "x", "files": ["Dockerfile"], **entry}]})
    assert problem in str(caught.value)


def test_references_already_at_the_new_version_are_not_changes() -> None:
    rule = ContainerRule("sglang", ("Dockerfile",), image=SGLANG_IMAGE)
    text = "FROM lmsysorg/sglang:v0.5.11-runtime\nFROM lmsysorg/sglang:v0.5.10-cu130-runtime\n"
    plan = containers.plan(
        [(rule, {"Dockerfile": text})], {}, [_change("sglang", "0.5.10", "0.5.11")], _request()
    )
    assert [(e.line, e.new) for e in plan.edits] == [(2, "v0.5.11-cu130-runtime")]


def test_template_versions_may_carry_a_local_label() -> None:
    rule = ContainerRule("torch", ("Dockerfile",), template='TORCH_VER="{version}"')
    text = 'ENV TORCH_VER="2.9.1+cu128"\n'
    plan = containers.plan(
        [(rule, {"Dockerfile": text})], {}, [_change("torch", "2.9.1+cu128", "2.10.0+cu128")], _request()
    )
    assert _applied(plan, "Dockerfile", text) == 'ENV TORCH_VER="2.10.0+cu128"\n'


def test_a_rule_that_finds_nothing_in_its_files_is_reported() -> None:
    rule = ContainerRule("torch", ("Dockerfile",), template='TORCH_VERSION="{version}"')
    text = 'ENV TORCH_VER="2.9.1"\n'
    plan = containers.plan(
        [(rule, {"Dockerfile": text})], {}, [_change("torch", "2.9.1", "2.10.0")], _request()
    )
    assert plan.edits == ()
    assert [(u.kind, u.file, u.blocking, u.message) for u in plan.unresolved] == [
        ("container", "Dockerfile", False,
         "container rule for torch found nothing to update in Dockerfile: "
         "check its image or template against the files"),
    ]  # fmt: skip
    # Read from a config, the rule sits at its own table there: that is what a person fixes.
    located = replace(rule, source=".github/upgrade-deps.toml", line=4)
    plan = containers.plan(
        [(located, {"Dockerfile": text})], {}, [_change("torch", "2.9.1", "2.10.0")], _request()
    )
    assert [(u.file, u.line, u.subject) for u in plan.unresolved] == [
        (".github/upgrade-deps.toml", 4, "torch")
    ]
