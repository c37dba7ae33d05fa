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
                raise TransientError(f"{redact_url(url)}: server answered {response.status}")
            if response.status != 200:
                raise ToolError(f"{redact_url(url)}: server answered {response.status}")
            if (response.content_length or 0) > LIMIT:
                raise ToolError(
                    f"{redact_url(url)}: {response.content_length} bytes is more than we download"
                )
            return await response.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise TransientError(f"{redact_url(url)}: download failed ({type(exc).__name__})") from None


async def fetch_file(url: str) -> bytes:
    """A distribution archive."""
    return await http_get(url)


def redact_url(url: str) -> str:
    """The URL without credentials or query (index URLs may carry a token in either)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    host, slash, path = rest.partition("/")
    host = host.rsplit("@", 1)[-1]
    return f"{scheme}{sep}{host}{slash}{path.split('?', 1)[0].split('#', 1)[0]}"
