"""Deriving a bot PR's upgrade from its manifest and lock diff."""

from __future__ import annotations

from bot.model import Variant
from bot.pipeline.botpr import VariantFiles, derive_request, safe_derive

VARIANTS = (
    Variant("default", "pyproject.toml", "uv.lock"),
    Variant("vllm", "pyproject.vllm.toml", "uv.vllm.lock"),
)


def manifest(*deps: str) -> str:
    listed = "".join(f'    "{dep}",\n' for dep in deps)
    return f'[project]\nname = "svc"\nversion = "0"\ndependencies = [\n{listed}]\n'


def lock(**versions: str) -> str:
    root = '[[package]]\nname = "svc"\nversion = "0"\nsource = { virtual = "." }\n'
    entries = "".join(
        f'[[package]]\nname = "{name}"\nversion = "{version}"\nsource = {{ registry = "x" }}\n'
        for name, version in versions.items()
    )
    return f"version = 1\n{root}{entries}"


def test_pin_moved_everywhere_is_one_request() -> None:
    base = {v: VariantFiles(manifest("torch==2.9.1"), lock(torch="2.9.1")) for v in ("default", "vllm")}
    head = {v: VariantFiles(manifest("torch==2.10.0"), lock(torch="2.10.0")) for v in ("default", "vllm")}
    assert derive_request(VARIANTS, base, head) == ("torch==2.10.0",)


def test_pin_moved_in_one_manifest_is_completed_in_the_other() -> None:
    base = {v: VariantFiles(manifest("torch==2.9.1"), lock(torch="2.9.1")) for v in ("default", "vllm")}
    head = {"default": VariantFiles(manifest("torch==2.10.0"), lock(torch="2.10.0")), "vllm": base["vllm"]}
    assert derive_request(VARIANTS, base, head) == ("torch==2.10.0@default", "torch==2.10.0@vllm")


def test_lock_only_update_asks_for_every_variant_that_declares_it() -> None:
    base = {v: VariantFiles(manifest("alpha>=1.0"), lock(alpha="1.0")) for v in ("default", "vllm")}
    head = {"default": VariantFiles(manifest("alpha>=1.0"), lock(alpha="1.1")), "vllm": base["vllm"]}
    assert derive_request(VARIANTS, base, head) == ("alpha==1.1@default", "alpha==1.1@vllm")


def test_deliberately_divergent_pins_move_only_where_the_pr_moved_them() -> None:
    base = {"default": VariantFiles(manifest("torch==2.9.1"), lock(torch="2.9.1")),
            "vllm": VariantFiles(manifest("torch==2.10.0"), lock(torch="2.10.0"))}  # fmt: skip
    head = {"default": VariantFiles(manifest("torch==2.9.2"), lock(torch="2.9.2")), "vllm": base["vllm"]}
    assert derive_request(VARIANTS, base, head) == ("torch==2.9.2@default",)


def test_transitive_lock_changes_are_not_requests() -> None:
    base = {
        v: VariantFiles(manifest("alpha>=1.0"), lock(alpha="1.0", gamma="1.0")) for v in ("default", "vllm")
    }
    head = {
        v: VariantFiles(manifest("alpha>=1.0"), lock(alpha="1.0", gamma="2.0")) for v in ("default", "vllm")
    }
    assert derive_request(VARIANTS, base, head) == ()


def test_corrupt_lock_is_a_message() -> None:
    base = {v: VariantFiles(manifest("alpha>=1.0"), lock(alpha="1.0")) for v in ("default", "vllm")}
    head = {"default": VariantFiles(manifest("alpha>=1.0"), "not = [toml"), "vllm": base["vllm"]}
    words, problem = safe_derive(VARIANTS, base, head)
    assert words == () and problem is not None and "uv.lock" in problem
