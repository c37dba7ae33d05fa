"""Asks a package index which versions are yanked (PEP 592), from its simple API (PEP 691 or 503)."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

import aiohttp
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from bot.files.lockfile import Lock
from bot.model import Request

ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
_ANCHOR = re.compile(r"<a\s([^>]*)>([^<]*)</a>", re.IGNORECASE)
_YANKED = re.compile(r"""data-yanked(?:\s*=\s*(?:"([^"]*)"|'([^']*)'))?""", re.IGNORECASE)


def _version(filename: str) -> str | None:
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


def yanked_from_files(files: list[tuple[str, str | None]]) -> dict[str, str]:
    """{version: reason} for versions whose every file is yanked; `files` is (filename, reason or None)."""
    by_version: dict[str, list[str | None]] = {}
    for filename, reason in files:
        version = _version(filename)
        if version:
            by_version.setdefault(version, []).append(reason)
    return {
        version: next((r for r in reasons if r), "")
        for version, reasons in by_version.items()
        if all(r is not None for r in reasons)
    }


def parse_json_page(data: Mapping[str, object]) -> list[tuple[str, str | None]]:
    """Files of a PEP 691 project page: `yanked` is false, true or the reason."""
    out: list[tuple[str, str | None]] = []
    files = data.get("files")
    for item in files if isinstance(files, list) else []:
        if isinstance(item, Mapping) and isinstance(item.get("filename"), str):
            yanked = item.get("yanked", False)
            reason = None if yanked is False else (yanked if isinstance(yanked, str) else "")
            out.append((item["filename"], reason))
    return out


def parse_html_page(text: str) -> list[tuple[str, str | None]]:
    """Files of a PEP 503 project page: an anchor with `data-yanked` is yanked (its value the reason)."""
    out: list[tuple[str, str | None]] = []
    for attributes, label in _ANCHOR.findall(text):
        yanked = _YANKED.search(attributes)
        reason = None if yanked is None else html.unescape(yanked.group(1) or yanked.group(2) or "")
        out.append((html.unescape(label).strip(), reason))
    return out


async def yanked_versions(
    session: aiohttp.ClientSession,
    index_url: str,
    package: str,
    *,
    timeout: float = 20.0,  # noqa: ASYNC109 - aiohttp's timeout of the one request; on expiry, {}
) -> dict[str, str]:
    """{version: reason} of `package`'s yanked versions on `index_url`; {} when the index cannot say
    (unreachable, not an HTTP index): the lock step reports a broken index on its own."""
    if urlsplit(index_url).scheme not in ("http", "https"):
        return {}
    url = f"{index_url.rstrip('/')}/{canonicalize_name(package)}/"
    try:
        get = session.get(url, headers={"Accept": ACCEPT}, timeout=aiohttp.ClientTimeout(total=timeout))
        async with get as response:
            if response.status != 200:
                return {}
            if "json" in response.headers.get("Content-Type", ""):
                files = parse_json_page(await response.json(content_type=None))
            else:
                files = parse_html_page(await response.text())
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError):
        return {}
    return yanked_from_files(files)


async def yanked_for_request(
    session: aiohttp.ClientSession, request: Request, baseline: Mapping[str, Lock]
) -> dict[str, dict[str, str]]:
    """Yank data for every requested package, from the index its baseline lock says it comes from."""
    out: dict[str, dict[str, str]] = {}
    for item in request.items:
        indexes = {
            value
            for lock in baseline.values()
            for entry in lock.packages.get(item.name, ())
            for kind, value in entry.source
            if kind == "registry"
        }
        for index_url in sorted(indexes):
            out.setdefault(item.name, {}).update(await yanked_versions(session, index_url, item.name))
    return out
