"""Distributions from what the lock records: choice of artifact, hash check, unpacking, the disk cache."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from bot.audit.distributions import pick_artifact, unpack_distribution
from bot.errors import ToolError
from bot.model import LockedPackage
from tests.support.wheels import WheelSpec, build_wheel


def _sdist(path: Path) -> Path:
    members = {
        "demo-1.0/src/demo/__init__.py": b"def f(a): ...\n",
        "demo-1.0/src/demo/data.bin": b"\x00\x01",
        "demo-1.0/setup.py": b"",
        "../escape.py": b"print('no')\n",
    }
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_pick_prefers_pure_wheel_then_any_wheel_then_sdist() -> None:
    pure = ("demo-1.0-py3-none-any.whl", "")
    binary = ("demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "")
    sdist = ("demo-1.0.tar.gz", "")
    assert pick_artifact(LockedPackage("demo", "1.0", (), (binary, pure), sdist)) == pure
    assert pick_artifact(LockedPackage("demo", "1.0", (), (binary,), sdist)) == binary
    assert pick_artifact(LockedPackage("demo", "1.0", (), (), sdist)) == sdist
    with pytest.raises(ToolError, match="records no wheel and no sdist"):
        pick_artifact(LockedPackage("demo", "1.0", ()))


async def test_wheel_from_find_links_is_verified_and_cached(tmp_path: Path) -> None:
    files = {"demo/__init__.py": "X = 1\n", "demo/_c.cpython-311-x86_64-linux-gnu.so": "\x7fELF..."}
    wheel = build_wheel(WheelSpec("demo", "1.0", files=files), tmp_path / "wheels")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    entry = LockedPackage("demo", "1.0", (("registry", "wheels"),), ((wheel.name, f"sha256:{digest}"),))
    unpacked = await unpack_distribution(tmp_path, entry, cache_dir=tmp_path / "cache")
    assert unpacked.top_level == ("demo",) and unpacked.digest == digest
    assert (unpacked.root / "demo" / "__init__.py").read_text() == "X = 1\n"
    assert not list(unpacked.root.rglob("METADATA"))  # only Python sources are kept
    assert (
        unpacked.root / "demo" / "_c.cpython-311-x86_64-linux-gnu.so"
    ).read_bytes() == b""  # a placeholder
    wheel.unlink()  # the cache keyed by name, version and hash answers without the archive
    again = await unpack_distribution(tmp_path, entry, cache_dir=tmp_path / "cache")
    assert again == unpacked


async def test_hash_mismatch_is_refused(tmp_path: Path) -> None:
    wheel = build_wheel(WheelSpec("demo", "1.0"), tmp_path / "wheels")
    entry = LockedPackage("demo", "1.0", (("registry", "wheels"),), ((wheel.name, "sha256:" + "0" * 64),))
    with pytest.raises(ToolError, match=r"demo 1\.0: sha256 mismatch"):
        await unpack_distribution(tmp_path, entry, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache" / "dist").exists() or not any((tmp_path / "cache" / "dist").iterdir())


async def test_sdist_with_src_layout(tmp_path: Path) -> None:
    (tmp_path / "dl").mkdir()
    _sdist(tmp_path / "dl" / "demo-1.0.tar.gz")
    entry = LockedPackage("demo", "1.0", (("registry", "dl"),), (), ("demo-1.0.tar.gz", ""))
    unpacked = await unpack_distribution(tmp_path, entry, cache_dir=tmp_path / "cache")
    assert unpacked.top_level == ("demo",)  # setup.py is not part of the package
    assert (unpacked.root / "demo" / "__init__.py").is_file()
    assert not (unpacked.root / "demo" / "data.bin").exists()
    assert not (tmp_path / "escape.py").exists() and not (tmp_path / "cache" / "escape.py").exists()


async def test_remote_artifact_without_downloader_is_an_error(tmp_path: Path) -> None:
    entry = LockedPackage("demo", "1.0", (), (("https://files.example/demo-1.0-py3-none-any.whl", ""),))
    with pytest.raises(ToolError, match="no downloader"):
        await unpack_distribution(tmp_path, entry, cache_dir=tmp_path / "cache")


async def test_damaged_archive_is_a_tool_error(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "demo-1.0-py3-none-any.whl").write_bytes(b"not a zip file")
    entry = LockedPackage("demo", "1.0", (("registry", "w"),), (("demo-1.0-py3-none-any.whl", ""),))
    with pytest.raises(ToolError, match=r"demo 1\.0: the archive is damaged \(BadZipFile\)"):
        await unpack_distribution(tmp_path, entry, cache_dir=tmp_path / "cache")
