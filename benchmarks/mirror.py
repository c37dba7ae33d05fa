"""Builds a package mirror on disk (a PEP 503 simple index behind a file:// URL) for the pipeline benchmark.

Shaped like what a large ML repository resolves against: every package has several versions, each
with an sdist, and one package in four ships binary wheels for three CPython versions on four
platforms, so the lock records many artifacts with their hashes.
"""

from __future__ import annotations

import hashlib
import html
import io
import tarfile
from collections.abc import Sequence
from pathlib import Path

from tests.support.wheels import WheelSpec, build_wheel, metadata

PLATFORMS = ("manylinux_2_17_x86_64", "manylinux_2_17_aarch64", "macosx_11_0_arm64", "win_amd64")
PYTHONS = ("cp311", "cp312", "cp313")
BINARY_TAGS = tuple(f"{py}-{py}-{platform}" for py in PYTHONS for platform in PLATFORMS)


def _sdist(spec: WheelSpec, outdir: Path) -> Path:
    """A minimal sdist: PKG-INFO with the same metadata the wheels carry."""
    base = f"{spec.name}-{spec.version}"
    info = metadata(spec).encode()
    target = outdir / f"{base}.tar.gz"
    with tarfile.open(target, "w:gz") as archive:
        entry = tarfile.TarInfo(f"{base}/PKG-INFO")
        entry.size, entry.mtime = len(info), 1704067200
        archive.addfile(entry, io.BytesIO(info))
    return target


def build_mirror(specs: Sequence[WheelSpec], root: Path, *, binary: frozenset[str]) -> str:
    """Write every spec (with binary wheels when its name is in `binary`) and return the index URL."""
    files, simple = root / "files", root / "simple"
    artifacts: dict[str, list[Path]] = {}
    for spec in specs:
        tags = BINARY_TAGS if spec.name in binary else ("py3-none-any",)
        built = [build_wheel(spec, files, tag=tag) for tag in tags] + [_sdist(spec, files)]
        artifacts.setdefault(spec.name, []).extend(built)
    for name, paths in artifacts.items():
        links = "\n".join(
            f'<a href="../../files/{html.escape(path.name)}#sha256='
            f'{hashlib.sha256(path.read_bytes()).hexdigest()}">{html.escape(path.name)}</a><br/>'
            for path in paths
        )
        page = simple / name
        page.mkdir(parents=True, exist_ok=True)
        (page / "index.html").write_text(f"<!DOCTYPE html>\n<html><body>\n{links}\n</body></html>\n")
    return simple.as_uri()
