"""Manifest declarations: every section a pin can live in, with its line; bad requirements named."""

from __future__ import annotations

import pytest

from bot.errors import ManifestError
from bot.files.manifest import Manifest


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


def test_a_url_pin_with_markers_right_after_it_reads_as_uv_reads_it() -> None:
    # AReaL's shape: no space between the URL and `;`, which uv accepts and PEP 508 does not.
    pin = "mbridge @ git+https://example.invalid/mbridge.git@310e8fb; sys_platform == 'linux'"
    text = (
        f'[project]\ndependencies = ["peft<=0.18.1"]\n[project.optional-dependencies]\nmegatron = ["{pin}"]\n'
    )
    manifest = Manifest(text, display="pyproject.toml")
    (declaration,) = manifest.declarations("mbridge")
    assert declaration.url == "git+https://example.invalid/mbridge.git@310e8fb"
    assert declaration.requirement == pin
    assert manifest.declared_names() == {"peft", "mbridge"}
    new, changed = manifest.rewrite("peft", lambda _: "<=0.19.0")
    assert [d.line for d in changed] == [2]
    assert new == text.replace("peft<=0.18.1", "peft<=0.19.0")  # the URL pin byte for byte
    assert manifest.rewrite("mbridge", lambda _: "==1")[1] == []  # URL pins are never rewritten


def test_a_url_without_markers_is_still_refused_when_malformed() -> None:
    manifest = Manifest('[project]\ndependencies = ["a @ ; b"]\n', display="pyproject.toml")
    with pytest.raises(ManifestError, match="is not a valid requirement"):
        manifest.declarations("a")


HOOKED = """\
[project]
name = "pkg-slim"
dynamic = ["version", "dependencies", "optional-dependencies"]

[tool.hatch.metadata.hooks.uv-dynamic-versioning]
dependencies = [
    "pkg-graph=={{ version }}",  # the workspace's own package, filled in at build time
    "httpx>=0.27",
]

[tool.hatch.metadata.hooks.uv-dynamic-versioning.optional-dependencies]
logfire = ["logfire[httpx]==4.39.0", "otel>=1"]
"""


def test_a_hatch_metadata_hook_declares_what_the_project_leaves_dynamic() -> None:
    # pydantic-ai's members and MCP's python-sdk write their dependencies there, not in [project].
    manifest = Manifest(HOOKED, display="slim/pyproject.toml")
    [logfire] = manifest.declarations("logfire")
    assert (logfire.line, logfire.specifier) == (12, "==4.39.0")
    assert (
        logfire.section == "[tool.hatch.metadata.hooks.uv-dynamic-versioning.optional-dependencies].logfire"
    )
    assert manifest.declarations("httpx")[0].line == 8
    assert manifest.declarations("pkg-graph") == []  # a template, not a pin
    text, changed = manifest.rewrite("logfire", lambda spec: "==4.41.0")
    assert text == HOOKED.replace("logfire[httpx]==4.39.0", "logfire[httpx]==4.41.0")
    assert [d.line for d in changed] == [12]


def test_a_hook_table_is_not_read_for_fields_the_project_declares_itself() -> None:
    static = HOOKED.replace('dynamic = ["version", "dependencies", "optional-dependencies"]', 'version = "1"')
    assert Manifest(static, display="pyproject.toml").declarations("logfire") == []
