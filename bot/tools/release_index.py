"""A package version's project links from its index: the JSON API where the index has one, else the
simple API's core metadata (PEP 691 + PEP 658); parsing is pure, fetching over HTTPS (or loopback)."""

from __future__ import annotations

import email.parser
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from bot.errors import ReleaseNotesError

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
PAGE_LIMIT = 8 * 1024**2
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
# Fetches a URL's body (raising ReleaseNotesError when it cannot); injected so tests and callers decide.
Get = Callable[[str, str | None], Awaitable[bytes]]


def allowed(url: str) -> bool:
    """HTTPS, or plain HTTP on loopback only: an index URL in a lock file is repository input."""
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)


def links_from_json(data: Any) -> dict[str, str]:
    """`info.project_urls` and `info.home_page` of a JSON API answer (`/pypi/<name>/<version>/json`)."""
    info = data.get("info") if isinstance(data, Mapping) else None
    if not isinstance(info, Mapping):
        return {}
    links: dict[str, str] = {}
    urls = info.get("project_urls")
    if isinstance(urls, Mapping):
        links.update({str(k): v for k, v in urls.items() if isinstance(v, str)})
    home = info.get("home_page")
    if isinstance(home, str) and home and home not in links.values():
        links["Homepage"] = home
    return links


def links_from_metadata(text: str) -> dict[str, str]:
    """`Project-URL: Label, url` and `Home-page:` of core metadata (METADATA / PKG-INFO)."""
    message = email.parser.HeaderParser().parsestr(text)
    links: dict[str, str] = {}
    for value in message.get_all("Project-URL") or []:
        label, sep, url = str(value).partition(",")
        if sep and url.strip():
            links[label.strip()] = url.strip()
    home = message.get("Home-page")
    if home and str(home).strip() not in links.values() and str(home).strip().upper() != "UNKNOWN":
        links["Homepage"] = str(home).strip()
    return links


def metadata_url(page: Any, version: str, page_url: str) -> str | None:
    """The PEP 658 metadata file of one of `version`'s distributions on a PEP 691 project page."""
    files = page.get("files") if isinstance(page, Mapping) else None
    for item in files if isinstance(files, list) else []:
        if not isinstance(item, Mapping) or not isinstance(item.get("url"), str):
            continue
        if _file_version(str(item.get("filename", ""))) != _normal(version):
            continue
        if item.get("core-metadata") or item.get("data-dist-info-metadata") or item.get("dist-info-metadata"):
            return urljoin(page_url, str(item["url"])) + ".metadata"
    return None


def _normal(version: str) -> str:
    try:
        return str(Version(version))
    except InvalidVersion:
        return version


def _file_version(filename: str) -> str | None:
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


async def project_links(get: Get, index_url: str, name: str, version: str) -> dict[str, str]:
    """The links `name` `version` declares, from `index_url` (a simple-API root such as PyPI's)."""
    if not allowed(index_url):
        raise ReleaseNotesError(f"{_shown(index_url)} is not an https index")
    root = index_url.rstrip("/")
    project = canonicalize_name(name)
    if root.endswith("/simple"):
        # PyPI and indexes like it answer the JSON API beside the simple one.
        json_url = f"{root[: -len('/simple')]}/pypi/{project}/{version}/json"
        try:
            return links_from_json(json.loads(await get(json_url, "application/json")))
        except (ReleaseNotesError, ValueError):
            pass  # no JSON API there: the simple API's metadata says the same
    page_url = f"{root}/{project}/"
    try:
        page = json.loads(await get(page_url, SIMPLE_JSON))
    except ValueError:
        raise ReleaseNotesError(f"{_shown(page_url)} is not a JSON simple-index page") from None
    url = metadata_url(page, version, page_url)
    if url is None:
        raise ReleaseNotesError(f"{_shown(index_url)} offers no metadata file for {name} {version}")
    return links_from_metadata((await get(url, None)).decode("utf-8", errors="replace"))


def _shown(url: str) -> str:
    """A URL without credentials or query, for a message (index URLs may carry a token in either)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


def http_getter(session: Any, *, timeout: float = 20.0) -> Get:
    """A `Get` over an aiohttp session: no redirects, bounded bodies, failures as ReleaseNotesError."""
    import aiohttp

    unreachable: dict[str, str] = {}  # host -> why: one timeout per host, not one per package

    async def get(url: str, accept: str | None) -> bytes:
        if not allowed(url):
            raise ReleaseNotesError(f"{_shown(url)} is not https")
        host = urlsplit(url).netloc
        if host in unreachable:
            raise ReleaseNotesError(unreachable[host])
        headers = {"Accept": accept} if accept else {}
        try:
            async with session.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout),
                                   allow_redirects=False) as response:  # fmt: skip
                if response.status != 200:
                    raise ReleaseNotesError(
                        f"{_shown(url)} answered {response.status}", status=response.status
                    )
                data: bytes = await response.content.read(PAGE_LIMIT + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            why = unreachable[host] = f"offline: cannot reach {_shown(url)} ({type(exc).__name__})"
            raise ReleaseNotesError(why) from None
        if len(data) > PAGE_LIMIT:
            raise ReleaseNotesError(f"{_shown(url)}: answer too large")
        return data

    return get
