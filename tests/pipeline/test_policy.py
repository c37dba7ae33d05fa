"""Dependency policy: request checks (downgrade, pre-release, yanked), pin style, compatible pairs."""

from __future__ import annotations

import pytest

from bot.errors import ConfigError, RefusedError
from bot.files.config import parse_config
from bot.files.lockfile import parse_lock
from bot.files.manifest import Manifest
from bot.pipeline.policy import check_policy, check_request
from bot.pipeline.request import parse_request

BASELINE = {"sglang": {"torch": ("2.9.1",), "numpy": ("1.26.4", "2.1.0")}, "vllm": {"torch": ("2.10.0",)}}

MANIFEST = """\
[project]
name = "demo"
version = "0.1.0"
dependencies = [
    "torch==2.7.1",
    "transformers>=4.50",
    "numpy>=1.26,<3",
    "peft~=0.15",
    "requests",
    "mbridge @ git+https://github.com/example/mbridge@abc123",
    "pydantic==2.*",
]

[project.optional-dependencies]
vllm = ["vllm>=0.10.1; sys_platform == 'linux'"]

[tool.uv]
override-dependencies = ["torchao==0.15.0"]
"""


def _entry(name: str, version: str, source: str = 'registry = "https://pypi.org/simple"') -> str:
    return f'\n[[package]]\nname = "{name}"\nversion = "{version}"\nsource = {{ {source} }}\n'


def _lock(**versions: str) -> str:
    entries = "".join(_entry(name, version) for name, version in versions.items())
    return 'version = 1\nrequires-python = ">=3.11"\n' + entries + _entry("demo", "0.1.0", 'virtual = "."')


def test_downgrade_is_refused_naming_the_argument() -> None:
    with pytest.raises(RefusedError) as caught:
        check_request(parse_request(["torch==2.9.0@sglang"]), BASELINE)
    assert str(caught.value) == (
        "argument torch==2.9.0@sglang: 2.9.0 is older than the locked 2.9.1 in variant sglang; "
        "add --allow-downgrade to downgrade on purpose"
    )


def test_downgrade_in_any_variant_counts_without_at_variant() -> None:
    with pytest.raises(RefusedError, match=r"older than the locked 2\.10\.0 in variant vllm"):
        check_request(parse_request(["torch==2.9.1"]), BASELINE)


def test_allowed_downgrade_and_prerelease_and_yank_are_warnings() -> None:
    request = parse_request(["torch==2.10.0rc1", "--allow-downgrade"])
    yanked = {"torch": {"2.10.0rc1": "broken CUDA wheels"}}
    warnings = check_request(request, BASELINE, yanked=yanked)
    assert [w.message for w in warnings] == [
        "torch is downgraded from 2.10.0 to 2.10.0rc1 in variant vllm (--allow-downgrade)",
        "torch 2.10.0rc1 is a pre-release",
        "torch 2.10.0rc1 is yanked from its index (broken CUDA wheels)",
    ]


def test_upgrades_and_marker_split_versions_pass_quietly() -> None:
    # numpy is locked at 1.26.4 and 2.1.0 (marker split): 2.0.0 is not older than both.
    assert (
        check_request(parse_request(["torch==2.10.0", "numpy==2.0.0@sglang", "newpkg==1.0"]), BASELINE) == []
    )


def test_range_policy_flags_exact_pins_and_uncapped_ranges_with_lines() -> None:
    config = parse_config({"policy": {"pins": "range"}})
    locks = {"default": parse_lock(_lock(requests="2.32.3", torch="2.7.1"), display="uv.lock")}
    found = check_policy(config, {"pyproject.toml": Manifest(MANIFEST, display="pyproject.toml")}, locks)
    assert {u.kind for u in found} == {"pin-style"}
    assert [(u.file, u.line, u.blocking, u.message) for u in found] == [
        ("pyproject.toml", 5, False,
         "exact pin torch==2.7.1: the repository's policy asks for ranges (>=2.7.1,<3)"),
        ("pyproject.toml", 6, False,
         "transformers>=4.50 has no upper bound: the repository's policy asks for a major-version cap "
         "(>=4.50,<5)"),
        ("pyproject.toml", 9, False,
         "requests has no upper bound: the repository's policy asks for a major-version cap (>=2.32.3,<3)"),
        ("pyproject.toml", 15, False,
         "vllm>=0.10.1; sys_platform == 'linux' has no upper bound: the repository's policy asks for a "
         "major-version cap (>=0.10.1,<1)"),
    ]  # fmt: skip


def test_exact_policy_does_not_police_pin_style() -> None:
    assert (
        check_policy(parse_config({}), {"pyproject.toml": Manifest(MANIFEST, display="pyproject.toml")}, {})
        == []
    )


def test_compatibility_pairs_are_checked_on_resolved_locks() -> None:
    config = parse_config(
        {
            "policy": {
                "pair": [
                    {"when": "vllm>=0.10", "require": "torch>=2.4"},
                    {"when": "sglang>=0.5", "require": "flashinfer>=0.2"},
                ]
            }
        }
    )
    locks = {
        "vllm": parse_lock(_lock(vllm="0.10.1", torch="2.3.0"), display="uv.vllm.lock"),
        "sglang": parse_lock(_lock(sglang="0.5.10", torch="2.9.1"), display="uv.lock"),
        "old": parse_lock(_lock(vllm="0.9.2", torch="2.3.0"), display="uv.old.lock"),
        "good": parse_lock(_lock(vllm="0.11.0", torch="2.8.0"), display="uv.good.lock"),
    }
    found = check_policy(config, {}, locks)
    assert [(u.kind, u.file, u.blocking, u.message) for u in found] == [
        ("policy", "uv.vllm.lock", True,
         "[[policy.pair]] #1: with vllm>=0.10, torch>=2.4 is required, but variant vllm (uv.vllm.lock) "
         "resolved torch 2.3.0"),
        ("policy", "uv.lock", True,
         "[[policy.pair]] #2: with sglang>=0.5, flashinfer>=0.2 is required, but variant sglang (uv.lock) "
         "resolved no flashinfer"),
    ]  # fmt: skip


def test_an_unknown_resolve_policy_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config({"policy": {"resolve": "fastest"}})
    assert str(refused.value) == (
        """.github/upgrade-deps.toml: [policy] key 'resolve': expected "least" or "newest", got 'fastest'"""
    )
