"""Where the audit command looks for a version: locks, then every manifest's [tool.uv] sources."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web

from bot.audit.dist_lookup import PYPI, from_directory, index_sources
from bot.audit.distributions import top_level_names
from bot.audit.fetch import fetch_file, http_get, redact_url
from bot.errors import ToolError
from bot.files.lockfile import parse_lock
from tests.support.http import serving
from tests.support.wheels import WheelSpec, build_wheel

LOCK = """\
version = 1
[[package]]
name = "demo-lib"
version = "1.0"
source = { registry = "https://mirror.example/simple" }
"""


def test_sources_in_order_without_duplicates(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.uv]\nfind-links = ["wheels"]\nindex-url = "https://a.example/simple"\n'
        'extra-index-url = ["https://mirror.example/simple"]\n',
        encoding="utf-8",
    )
    (tmp_path / "pyproject.vllm.toml").write_text(
        '[[tool.uv.index]]\nname = "torch"\nurl = "https://torch.example/whl"\n', encoding="utf-8"
    )
    lock = parse_lock(LOCK, display="uv.lock")
    manifests = ("pyproject.toml", "pyproject.vllm.toml", "missing.toml")
    assert index_sources(tmp_path, [lock], "demo-lib", manifests=manifests) == [
        "https://mirror.example/simple",
        "wheels",
        "https://a.example/simple",
        "https://torch.example/whl",
        PYPI,
    ]


def test_no_index_keeps_pypi_out(tmp_path: Path) -> None:
    text = '[tool.uv]\nno-index = true\nfind-links = "w"\n'
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    assert index_sources(tmp_path, [], "demo-lib") == ["w"]


def test_directory_lookup_matches_normalised_names_and_versions(tmp_path: Path) -> None:
    build_wheel(WheelSpec("Demo.Lib", "1.0"), tmp_path / "w")
    found = from_directory(tmp_path, "w", "demo-lib", "1.0.0")
    assert found is not None and found.wheels == (("demo_lib-1.0-py3-none-any.whl", ""),)
    assert from_directory(tmp_path, "w", "demo-lib", "2.0") is None
    assert from_directory(tmp_path, "nowhere", "demo-lib", "1.0") is None


def test_namespace_packages_count_as_top_level(tmp_path: Path) -> None:
    (tmp_path / "megatron" / "core").mkdir(parents=True)
    (tmp_path / "megatron" / "core" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "single.py").write_text("", encoding="utf-8")
    (tmp_path / "setup.py").write_text("", encoding="utf-8")
    assert top_level_names(tmp_path) == ("megatron.core", "pkg", "single")


def test_deepest_package_all_modules_share(tmp_path: Path) -> None:
    files = {
        # An old-style namespace: its __init__ only extends the path; megatron-bridge shares it.
        "megatron/__init__.py": (
            '"""Megatron."""\n__path__ = __import__("pkgutil").extend_path(__path__, __name__)\n'
        ),
        "megatron/bridge/__init__.py": "from .auto import AutoBridge\n",
        "megatron/bridge/auto.py": "class AutoBridge: ...\n",
        # A package whose __init__ does something is the root, even with one sub-package.
        "tool/__init__.py": "VERSION = 1\n",
        "tool/cli/__init__.py": "",
        # A package with modules of its own is the root however empty its __init__ is.
        "lib/__init__.py": "",
        "lib/a.py": "",
        "lib/sub/__init__.py": "",
    }
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    assert top_level_names(tmp_path) == ("lib", "megatron.bridge", "tool")


def test_credentials_never_reach_messages() -> None:
    assert redact_url("https://user:s3cret@index.example/simple/x/?token=abc#sha256=1") == (
        "https://index.example/simple/x/"
    )
    assert redact_url("wheelhouse") == "wheelhouse"


@pytest.mark.parametrize("url", ["http://10.0.0.1/simple/x/", "file:///etc/passwd", "ftp://host/x.whl"])
async def test_only_https_or_loopback_is_fetched(tmp_path: Path, url: str) -> None:
    with pytest.raises(ToolError, match="only https URLs are fetched"):
        await fetch_file(url, tmp_path / "x.whl")
    with pytest.raises(ToolError, match="only https URLs are fetched"):
        await http_get(url)
    assert not (tmp_path / "x.whl").exists()


async def test_redirects_are_followed_and_checked(tmp_path: Path) -> None:
    async def bounce(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    async def real(request: web.Request) -> web.Response:
        return web.Response(body=b"wheel bytes")

    app = web.Application()
    app.router.add_get("/bounce", bounce)
    app.router.add_get("/real", real)
    async with serving(app) as base:
        await fetch_file(f"{base}/bounce?to=/real", tmp_path / "ok.whl")
        assert (tmp_path / "ok.whl").read_bytes() == b"wheel bytes"
        with pytest.raises(ToolError, match="only https URLs are fetched"):
            await fetch_file(f"{base}/bounce?to=http://10.1.2.3/x.whl", tmp_path / "no.whl")
        with pytest.raises(ToolError, match="server answered 404"):
            await http_get(f"{base}/missing")
