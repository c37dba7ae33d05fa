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
