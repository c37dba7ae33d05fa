"""Pure pieces: request parsing, specifier bumps, Markdown neutralising, manifest declarations."""

from __future__ import annotations

import re

import pytest

from bot.errors import BadArgumentsError, ManifestError
from bot.files.manifest import Manifest
from bot.files.specifiers import bump_specifier
from bot.pipeline.request import parse_request
from bot.text.markdown import block, code, inline


@pytest.mark.parametrize(
    ("arg", "name", "version", "variant"),
    [
        ("SGLang==0.5.10", "sglang", "0.5.10", None),
        ("vllm==0.10.1.post1", "vllm", "0.10.1.post1", None),
        ("torch==2.10.0rc1@vllm", "torch", "2.10.0rc1", "vllm"),
        ("torch==2.9.1+cu129@sglang", "torch", "2.9.1+cu129", "sglang"),
        ("megatron_core==0.17.0", "megatron-core", "0.17.0", None),
    ],
)
def test_request_arguments(arg: str, name: str, version: str, variant: str | None) -> None:
    [item] = parse_request([arg]).items
    assert (item.name, item.version, item.variant) == (name, version, variant)


def test_request_options_and_repeats() -> None:
    request = parse_request(["sglang==0.5.11", "--image-tag", "v0.5.11-cu130-runtime", "--allow-downgrade"])
    assert request.image_tag == "v0.5.11-cu130-runtime" and request.allow_downgrade
    with pytest.raises(BadArgumentsError, match=re.escape("'torch==2.1' repeats 'torch==2.0'")):
        parse_request(["torch==2.0", "torch==2.1"])
    with pytest.raises(BadArgumentsError, match="mixes a version for all variants"):
        parse_request(["torch==2.0", "torch==2.1@vllm"])
    with pytest.raises(BadArgumentsError, match="--image-tag needs a tag"):
        parse_request(["sglang==1.0", "--image-tag"])


@pytest.mark.parametrize(
    ("spec", "version", "expected"),
    [
        ("==0.5.9", "0.5.10", "==0.5.10"),
        ("== 0.5.9", "0.5.10", "== 0.5.10"),
        (">=2.9.1", "2.10.0", ">=2.10.0"),
        (">=2.9.1,<3", "2.10.0", ">=2.10.0,<3"),
        (">=2.9, <2.10", "2.10.0", ">=2.10.0, <3"),
        ("~=0.5.9", "0.5.10", "~=0.5.10"),
        ("<=4.56.0", "4.57.1", "<=4.57.1"),
        ("!=0.5.10,>=0.5", "0.5.10", ">=0.5.10"),
        ("==2.9.*", "2.10.0", "==2.10.*"),
        ("==2.9.1+cu128", "2.10.0+cu129", "==2.10.0+cu129"),
        (">=2.9.1", "2.10.0+cu129", ">=2.10.0"),
        ("", "1.0", None),
    ],
)
def test_bump_specifier_keeps_the_style(spec: str, version: str, expected: str | None) -> None:
    assert bump_specifier(spec, version) == expected


def test_markdown_neutralising() -> None:
    assert inline("@octocat <img src=x> `x` [a](b)") == (
        "@\u200boctocat &lt;img src=x&gt; \\`x\\` \\[a\\](b)"
    )
    assert code("a`b") == "``a`b``"
    assert block("```\n@team") == "````text\n```\n@\u200bteam\n````"


def test_declarations_everywhere_with_lines() -> None:
    text = """\
[project]
dependencies = ["a==1"]
[project.optional-dependencies]
x = ["A[extra]==1; python_version>'3'"]
[dependency-groups]
dev = [{include-group = "x"}, "a>=1"]
[tool.uv]
override-dependencies = ["a==1"]
constraint-dependencies = ["a<2"]
[tool.uv.sources]
a = { git = "https://example.invalid/a", rev = "abc" }
"""
    manifest = Manifest(text, display="pyproject.toml")
    found = [(d.line, d.section, d.specifier) for d in manifest.declarations("a")]
    assert found == [
        (2, "[project].dependencies", "==1"),
        (4, "[project.optional-dependencies].x", "==1"),
        (6, "[dependency-groups].dev", ">=1"),
        (8, "[tool.uv].override-dependencies", "==1"),
        (9, "[tool.uv].constraint-dependencies", "<2"),
    ]
    source = manifest.source_of("a")
    assert source is not None and source.line == 11


def test_invalid_requirement_names_the_file_and_section() -> None:
    manifest = Manifest('[project]\ndependencies = ["a=>1"]\n', display="pyproject.vllm.toml")
    with pytest.raises(ManifestError, match=r"pyproject.vllm.toml: \[project\].dependencies: 'a=>1' is not"):
        manifest.declarations("a")
