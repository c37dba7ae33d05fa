"""Golden files: rendered text equals its file byte for byte; UPGRADE_DEPS_UPDATE_GOLDEN=1 rewrites them."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

UPDATE = "UPGRADE_DEPS_UPDATE_GOLDEN"


def assert_golden(actual: str, path: Path) -> None:
    """Fail, showing a diff, unless `actual` is the UTF-8 text of `path`; with UPGRADE_DEPS_UPDATE_GOLDEN=1
    in the environment, write `actual` to `path` instead (review the change with `git diff`)."""
    if os.environ.get(UPDATE) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
        return
    if not path.is_file():
        raise AssertionError(f"no golden file {path}: run the test with {UPDATE}=1 to write it")
    # Bytes, not read_text(): universal newlines would hide a \r\n the renderer started to emit.
    expected = path.read_bytes().decode("utf-8")
    if actual != expected:
        diff = difflib.unified_diff(expected.splitlines(keepends=True), actual.splitlines(keepends=True),
                                    f"{path} (golden)", "rendered")  # fmt: skip
        raise AssertionError(
            f"rendered text differs from {path.name} ({UPDATE}=1 rewrites it):\n" + "".join(diff)
        )
