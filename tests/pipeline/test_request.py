"""Request parsing: package arguments, variants, options and repeats."""

from __future__ import annotations

import re

import pytest

from bot.errors import BadArgumentsError
from bot.pipeline.request import parse_request


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
