"""Prints the pip requirement, with hashes, of the uv that uv.lock pins: how setup and the image get uv."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path


def requirement(lock_text: str) -> str:
    """`uv==X --hash=sha256:…` for every file uv.lock records for uv, so pip installs only those."""
    lock = tomllib.loads(lock_text)
    found = [package for package in lock.get("package", []) if package.get("name") == "uv"]
    if len(found) != 1:
        raise SystemExit(f"uv.lock: expected one locked version of uv, found {len(found)}")
    package = found[0]
    files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
    hashes = " ".join(f"--hash={file['hash']}" for file in files)
    return f"uv=={package['version']} {hashes}"


def main() -> None:
    lock = Path(sys.argv[1] if len(sys.argv) > 1 else "uv.lock")
    print(requirement(lock.read_text(encoding="utf-8")))


if __name__ == "__main__":
    main()
