"""Builds tiny but real wheels (zip files with dist-info) for offline tests and the example."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class WheelSpec:
    """One distribution version: its requirements and the source files it ships."""

    name: str
    version: str
    requires: Sequence[str] = ()
    files: Mapping[str, str] = field(default_factory=dict)
    extras: Mapping[str, Sequence[str]] = field(default_factory=dict)
    requires_python: str | None = None


def _normalise(name: str) -> str:
    return name.replace("-", "_").replace(".", "_").lower()


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def metadata(spec: WheelSpec) -> str:
    """The core metadata (METADATA in a wheel, PKG-INFO in an sdist) of `spec`."""
    meta = [
        "Metadata-Version: 2.1",
        f"Name: {spec.name}",
        f"Version: {spec.version}",
    ]
    if spec.requires_python:
        meta.append(f"Requires-Python: {spec.requires_python}")
    meta += [f"Requires-Dist: {req}" for req in spec.requires]
    for extra, reqs in spec.extras.items():
        meta.append(f"Provides-Extra: {extra}")
        meta += [f'Requires-Dist: {req} ; extra == "{extra}"' for req in reqs]
    return "\n".join(meta) + "\n"


def build_wheel(spec: WheelSpec, outdir: Path, *, tag: str = "py3-none-any") -> Path:
    """Write `spec` as a wheel for `tag` (python-abi-platform) into `outdir` and return its path.

    The zip entries carry a fixed timestamp so the same spec always gives the same bytes
    (and therefore the same sha256 in lock files).
    """
    outdir.mkdir(parents=True, exist_ok=True)
    dist = _normalise(spec.name)
    info = f"{dist}-{spec.version}.dist-info"
    files = dict(spec.files) or {f"{dist}/__init__.py": f'__version__ = "{spec.version}"\n'}
    entries: dict[str, bytes] = {path: text.encode() for path, text in sorted(files.items())}
    entries[f"{info}/METADATA"] = metadata(spec).encode()
    entries[f"{info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: upgrade-deps-tests\nRoot-Is-Purelib: true\nTag: {tag}\n".encode()
    )
    top = sorted({path.split("/")[0].removesuffix(".py") for path in files})
    entries[f"{info}/top_level.txt"] = ("\n".join(top) + "\n").encode()
    record = [_record_line(path, data) for path, data in entries.items()]
    record.append(f"{info}/RECORD,,")
    entries[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    target = outdir / f"{dist}-{spec.version}-{tag}.whl"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in entries.items():
            item = zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0))
            item.external_attr = 0o644 << 16
            archive.writestr(item, data)
    return target


def build_wheelhouse(specs: Sequence[WheelSpec], outdir: Path) -> list[Path]:
    """Build every spec into `outdir`."""
    return [build_wheel(spec, outdir) for spec in specs]
