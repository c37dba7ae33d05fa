"""Builds this example's offline wheelhouse: tiny real wheels shaped like SGLang, vLLM and their stack."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from tests.support.wheels import WheelSpec, build_wheelhouse  # noqa: E402

SERVER_ARGS_OLD = """
class ServerArgs:
    def __init__(self, model_path: str, tp_size: int = 1, enable_lora: bool = False) -> None:
        self.model_path = model_path
"""
SERVER_ARGS_NEW = """
class ServerArgs:
    def __init__(self, model_path: str, tensor_parallel_size: int = 1, enable_lora: bool = False) -> None:
        self.model_path = model_path
"""
TOKENIZATION = """
class AutoTokenizer:
    @classmethod
    def from_pretrained(cls, name: str, *, use_fast: bool = True) -> "AutoTokenizer":
        return cls()
"""


def transformers(version: str, requires: list[str]) -> WheelSpec:
    files = {
        "transformers/__init__.py": f'__version__ = "{version}"\nfrom .tokenization import AutoTokenizer\n',
        "transformers/tokenization.py": TOKENIZATION,
    }
    return WheelSpec("transformers", version, requires, files=files)


def specs() -> list[WheelSpec]:
    return [
        WheelSpec("torch", "2.9.1"),
        WheelSpec("torch", "2.10.0"),
        WheelSpec("numpy", "2.2.6"),
        WheelSpec("numpy", "2.3.5"),
        transformers("4.56.0", ["numpy>=2,<2.3"]),
        transformers("4.57.1", ["numpy>=2.3"]),
        WheelSpec("peft", "0.17.0", ["transformers>=4.50"]),
        WheelSpec("torchao", "0.15.0"),
        WheelSpec("torchao", "0.16.0"),
        WheelSpec(
            "sglang",
            "0.5.9",
            ["torch==2.9.1", "transformers>=4.56"],
            files={
                "sglang/__init__.py": '__version__ = "0.5.9"\n',
                "sglang/srt/__init__.py": "",
                "sglang/srt/server_args.py": SERVER_ARGS_OLD,
            },
        ),
        WheelSpec(
            "sglang",
            "0.5.10",
            ["torch==2.9.1", "transformers>=4.57"],
            files={
                "sglang/__init__.py": '__version__ = "0.5.10"\n',
                "sglang/srt/__init__.py": "",
                "sglang/srt/server_args.py": SERVER_ARGS_NEW,
            },
        ),
        WheelSpec("vllm", "0.11.0", ["torch==2.10.0", "transformers>=4.56"]),
        WheelSpec("vllm", "0.11.1", ["torch==2.10.0", "transformers>=4.57"]),
    ]


if __name__ == "__main__":
    for path in build_wheelhouse(specs(), HERE / "wheelhouse"):
        print(path.relative_to(HERE))
