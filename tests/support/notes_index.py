"""A package index on loopback that answers what release notes read: PyPI's JSON API for some
packages, only the simple API with PEP 658 metadata files for others."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class NotesIndex:
    # name -> version -> project links; `json_api` names the packages the JSON API also answers for.
    links: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    json_api: set[str] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)
    url: str = ""

    @property
    def simple(self) -> str:
        return f"{self.url}/simple"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/pypi/{name}/{version}/json", self._json)
        app.router.add_get("/simple/{name}/", self._page)
        app.router.add_get("/files/{file}", self._metadata)
        return app

    async def _json(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        name, version = request.match_info["name"], request.match_info["version"]
        if name not in self.json_api or version not in self.links.get(name, {}):
            return web.json_response({"message": "Not Found"}, status=404)
        info = {
            "name": name,
            "version": version,
            "project_urls": self.links[name][version],
            "home_page": None,
        }
        return web.json_response({"info": info, "urls": []})

    async def _page(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        name = request.match_info["name"]
        if name not in self.links:
            return web.json_response({"message": "Not Found"}, status=404)
        files = [{"filename": f"{name.replace('-', '_')}-{version}-py3-none-any.whl",
                  "url": f"../../files/{name.replace('-', '_')}-{version}-py3-none-any.whl",
                  "hashes": {}, "core-metadata": {"sha256": "0" * 64}}
                 for version in self.links[name]]  # fmt: skip
        body = {"meta": {"api-version": "1.1"}, "name": name, "files": files}
        return web.json_response(body, content_type="application/vnd.pypi.simple.v1+json")

    async def _metadata(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        filename = request.match_info["file"].removesuffix(".metadata")
        project, version = filename.split("-")[:2]
        name = project.replace("_", "-")
        urls = self.links.get(name, {}).get(version)
        if urls is None:
            return web.Response(status=404)
        lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        lines += [f"Project-URL: {label}, {url}" for label, url in urls.items()]
        return web.Response(text="\n".join(lines) + "\n\nThe description.\n")


@contextlib.asynccontextmanager
async def running_index() -> AsyncIterator[NotesIndex]:
    index = NotesIndex()
    runner = web.AppRunner(index.app(), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        index.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        yield index
    finally:
        await runner.cleanup()
