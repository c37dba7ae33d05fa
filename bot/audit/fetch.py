"""Downloads distribution files and simple-index pages over HTTP(S) with aiohttp (production path)."""

from __future__ import annotations

import aiohttp

from bot.errors import ToolError, TransientError

SIMPLE_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
LIMIT = 2 * 1024**3  # no single distribution we audit is larger; refuse runaway downloads


async def http_get(url: str, *, accept: str | None = None, timeout: float = 300.0) -> bytes:
    """The body of `url`; 5xx and connection problems are transient, other statuses are tool errors."""
    headers = {"Accept": accept} if accept else {}
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.get(url, headers=headers) as response,
        ):
            if response.status >= 500:
                raise TransientError(f"{_safe(url)}: server answered {response.status}")
            if response.status != 200:
                raise ToolError(f"{_safe(url)}: server answered {response.status}")
            if (response.content_length or 0) > LIMIT:
                raise ToolError(f"{_safe(url)}: {response.content_length} bytes is more than we download")
            return await response.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise TransientError(f"{_safe(url)}: download failed ({type(exc).__name__})") from None


async def fetch_file(url: str) -> bytes:
    """A distribution archive."""
    return await http_get(url)


def _safe(url: str) -> str:
    """The URL without credentials (index URLs may carry a token in the user-info part)."""
    scheme, sep, rest = url.partition("://")
    host_and_path = rest.split("@", 1)[-1] if "@" in rest.split("/", 1)[0] else rest
    return f"{scheme}{sep}{host_and_path}"
