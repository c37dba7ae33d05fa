"""Downloads distribution files (streamed to disk) and simple-index pages over HTTPS with aiohttp."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlparse

from bot.errors import ToolError, TransientError

SIMPLE_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
LIMIT = 2 * 1024**3  # no single distribution we audit is larger; refuse runaway downloads
PAGE_LIMIT = 64 * 1024**2  # a simple-index page (transformers' is ~0.2 MB)
_LOOPBACK = ("127.0.0.1", "localhost", "::1")

if TYPE_CHECKING:
    import aiohttp


# ASYNC109: `timeout` is aiohttp's total timeout of this one download, which becomes a TransientError.
async def http_get(url: str, *, accept: str | None = None, timeout: float = 300.0) -> bytes:  # noqa: ASYNC109
    """The body of `url`; 5xx and connection problems are transient, other statuses are tool errors."""
    import aiohttp  # only when something is downloaded: local wheelhouses never need it

    _check_scheme(url)
    headers = {"Accept": accept} if accept else {}
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            _get(session, url, headers=headers) as response,
        ):
            _check_status(url, response.status)
            if (response.content_length or 0) > PAGE_LIMIT:
                raise ToolError(f"{redact_url(url)}: {response.content_length} bytes is not an index page")
            chunks: list[bytes] = []
            total = 0
            async for block in response.content.iter_chunked(1 << 16):
                total += len(block)
                if total > PAGE_LIMIT:
                    raise ToolError(f"{redact_url(url)}: more than {PAGE_LIMIT} bytes is not an index page")
                chunks.append(block)
            return b"".join(chunks)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise TransientError(f"{redact_url(url)}: download failed ({type(exc).__name__})") from None


async def fetch_file(url: str, target: Path, *, timeout: float = 900.0) -> None:  # noqa: ASYNC109 - as above
    """Stream a distribution archive into `target`, refusing more than LIMIT bytes."""
    import aiohttp

    _check_scheme(url)
    written = 0
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            _get(session, url) as response,
        ):
            _check_status(url, response.status)
            with target.open("wb") as out:
                async for block in response.content.iter_chunked(1 << 20):
                    written += len(block)
                    if written > LIMIT:
                        raise ToolError(f"{redact_url(url)}: more than {LIMIT} bytes, not downloaded")
                    out.write(block)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise TransientError(f"{redact_url(url)}: download failed ({type(exc).__name__})") from None


@contextlib.asynccontextmanager
async def _get(
    session: aiohttp.ClientSession, url: str, *, headers: Mapping[str, str] | None = None
) -> AsyncIterator[aiohttp.ClientResponse]:
    """GET following at most five redirects, each checked like the first URL (no hop to plain HTTP)."""
    for _ in range(6):
        response = await session.get(url, headers=headers, allow_redirects=False)
        if response.status not in (301, 302, 303, 307, 308) or "Location" not in response.headers:
            try:
                yield response
            finally:
                response.release()
            return
        target = urljoin(url, response.headers["Location"])
        response.release()
        _check_scheme(target)
        url = target
    raise ToolError(f"{redact_url(url)}: too many redirects")


def _check_scheme(url: str) -> None:
    """HTTPS only, except loopback (test servers): a lock file is repository input, and a URL in it
    must not make the bot reach plain-HTTP hosts inside its own network."""
    parsed = urlparse(url)
    if parsed.scheme == "https" or (parsed.scheme == "http" and parsed.hostname in _LOOPBACK):
        return
    raise ToolError(f"{redact_url(url)}: only https URLs are fetched")


def _check_status(url: str, status: int) -> None:
    if status >= 500:
        raise TransientError(f"{redact_url(url)}: server answered {status}")
    if status != 200:
        raise ToolError(f"{redact_url(url)}: server answered {status}")


def redact_url(url: str) -> str:
    """The URL without credentials or query (index URLs may carry a token in either)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    host, slash, path = rest.partition("/")
    host = host.rsplit("@", 1)[-1]
    return f"{scheme}{sep}{host}{slash}{path.split('?', 1)[0].split('#', 1)[0]}"
