"""Yanked versions read from a simple index served over HTTP (PEP 503 HTML and PEP 691 JSON)."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import aiohttp
import pytest

from bot.files.lockfile import parse_lock
from bot.pipeline.policy import check_request
from bot.pipeline.request import parse_request
from bot.tools.yanks import yanked_for_request, yanked_versions
from tests.support.http import free_port

TORCH_PAGE = """<!DOCTYPE html><html><body>
<a href="/f/torch-2.9.1-py3-none-any.whl">torch-2.9.1-py3-none-any.whl</a>
<a href="/f/torch-2.10.0-py3-none-any.whl" data-yanked="broken CUDA wheels">torch-2.10.0-py3-none-any.whl</a>
<a href="/f/torch-2.10.0.tar.gz" data-yanked="">torch-2.10.0.tar.gz</a>
<a href="/f/torch-2.10.1-py3-none-any.whl" data-yanked>torch-2.10.1-py3-none-any.whl</a>
<a href="/f/torch-2.10.1.tar.gz">torch-2.10.1.tar.gz</a>
</body></html>"""


class _JsonHandler(SimpleHTTPRequestHandler):
    """Serves `<path>/index.json` as PEP 691 JSON when the client asks for it, as PyPI does."""

    def do_GET(self) -> None:
        page = Path(self.directory) / self.path.strip("/") / "index.json"
        if "json" in self.headers.get("Accept", "") and page.exists():
            body = page.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def index(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "simple" / "torch").mkdir(parents=True)
    (tmp_path / "simple" / "torch" / "index.html").write_text(TORCH_PAGE)
    (tmp_path / "simple" / "vllm").mkdir(parents=True)
    files = [
        {"filename": "vllm-0.10.1-py3-none-any.whl", "yanked": False},
        {"filename": "vllm-0.10.2-py3-none-any.whl", "yanked": "regression in the scheduler"},
        {"filename": "vllm-0.10.3-py3-none-any.whl", "yanked": True},
    ]
    (tmp_path / "simple" / "vllm" / "index.json").write_text(
        json.dumps({"meta": {"api-version": "1.0"}, "files": files})
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_JsonHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as running:
        yield running


async def test_html_index_yanks_a_version_only_when_all_its_files_are(
    index: str, session: aiohttp.ClientSession
) -> None:
    assert await yanked_versions(session, index, "Torch") == {"2.10.0": "broken CUDA wheels"}


async def test_json_index_yanks(index: str, session: aiohttp.ClientSession) -> None:
    assert await yanked_versions(session, index, "vllm") == {
        "0.10.2": "regression in the scheduler",
        "0.10.3": "",
    }


async def test_unknown_or_unreachable_indexes_say_nothing(index: str, session: aiohttp.ClientSession) -> None:
    assert await yanked_versions(session, index, "nothing-here") == {}
    assert await yanked_versions(session, f"http://127.0.0.1:{free_port()}/simple", "torch") == {}
    assert await yanked_versions(session, "../wheelhouse", "torch") == {}


async def test_request_check_warns_about_yanked_versions_from_the_locks_index(
    index: str, session: aiohttp.ClientSession
) -> None:
    entry = f'[[package]]\nname = "torch"\nversion = "2.9.1"\nsource = {{ registry = "{index}" }}\n'
    lock = parse_lock("version = 1\n\n" + entry, display="uv.lock")
    request = parse_request(["torch==2.10.0"])
    yanked = await yanked_for_request(session, request, {"default": lock})
    warnings = check_request(request, {"default": lock.versions()}, yanked=yanked)
    assert [w.message for w in warnings] == ["torch 2.10.0 is yanked from its index (broken CUDA wheels)"]
