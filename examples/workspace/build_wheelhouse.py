"""Builds this example's offline wheelhouse: tiny real wheels of the stack its projects pin."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from tests.support.wheels import WheelSpec, build_wheelhouse  # noqa: E402

SPECS = [
    WheelSpec("torch", "2.9.1"),
    WheelSpec("torch", "2.10.0"),
    WheelSpec("numpy", "2.2.6"),
    WheelSpec("numpy", "2.3.5"),
    WheelSpec("transformers", "4.56.0", ["numpy>=2,<2.3"]),
    WheelSpec("transformers", "4.57.1", ["numpy>=2.3"]),
    WheelSpec("peft", "0.17.0", ["transformers>=4.50"]),
    WheelSpec("fastapi", "0.115.0"),
]

if __name__ == "__main__":
    build_wheelhouse(SPECS, HERE / "wheelhouse")
