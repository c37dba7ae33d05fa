"""Asks OCI registries whether an exact image tag exists (manifest HEAD, anonymous bearer tokens)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlsplit

import aiohttp

from bot.errors import RegistryError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
# Everything a tag may resolve to: multi-platform indexes and single manifests, OCI and Docker.
MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class ImageRef:
    """An image reference normalised as Docker does: registry host, repository path, tag."""

    registry: str  # host[:port], "docker.io" for Docker Hub
    repository: str  # "library/python", "lmsysorg/sglang"
    tag: str

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def base_url(self) -> str:
        scheme = "http" if is_loopback(self.registry) else "https"
        return f"{scheme}://{self.api_host}"


def is_loopback(host: str) -> bool:
    """Loopback registries are spoken to over plain HTTP, as Docker does."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def parse_image(repository: str, tag: str) -> ImageRef:
    """Normalise `repository` (`python`, `lmsysorg/sglang`, `ghcr.io/o/r`, `127.0.0.1:5000/x`)."""
    first, slash, rest = repository.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        host, path = first, rest
    else:
        host, path = DOCKER_HUB, repository
    if host in ("index.docker.io", "registry-1.docker.io"):
        host = DOCKER_HUB
    if host == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    return ImageRef(host, path, tag)


def parse_challenge(header: str) -> dict[str, str] | None:
    """The parameters of a `WWW-Authenticate: Bearer realm=...,service=...,scope=...` challenge."""
    scheme, _, params = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    found = dict(_CHALLENGE_PARAM.findall(params))
    return found if "realm" in found else None


def realm_allowed(realm: str, ref: ImageRef) -> bool:
    """Token services are followed over HTTPS only, or plain HTTP on loopback for a loopback registry:
    a registry must not steer the bot to plain-HTTP services elsewhere (cloud metadata, intranet)."""
    parts = urlsplit(realm)
    if parts.scheme == "https" and parts.netloc:
        return True
    return parts.scheme == "http" and is_loopback(ref.registry) and is_loopback(parts.netloc)


class RegistryClient:
    """Checks tags over the OCI distribution API; anonymous only, never sends stored credentials."""

    def __init__(
        self, *, session: aiohttp.ClientSession, timeout: float = 20.0,
        observe: Callable[[str], None] | None = None,
    ) -> None:  # fmt: skip
        self._session = session
        # Told each lookup's outcome (exists, missing, error): the service counts them.
        self._observe = observe or (lambda outcome: None)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        # Anonymous pull tokens by (registry, repository), reused for the other tags of one image
        # within this client's life (one job); a rejected one is fetched again.
        self._tokens: dict[tuple[str, str], str] = {}

    async def tag_exists(self, ref: ImageRef) -> Literal["exists", "missing"]:
        """Whether the tag exists; RegistryError (reason safe to show) when no answer is possible."""
        return "missing" if await self.manifest_digest(ref) is None else "exists"

    async def manifest_digest(self, ref: ImageRef) -> str | None:
        """HEAD the tag's manifest: its digest ("" if the registry sends none), None when missing."""
        try:
            digest = await self._digest(ref)
        except RegistryError:
            self._observe("error")
            raise
        self._observe("missing" if digest is None else "exists")
        return digest

    async def _digest(self, ref: ImageRef) -> str | None:
        url = f"{ref.base_url}/v2/{ref.repository}/manifests/{quote(ref.tag, safe='')}"
        headers = {"Accept": MANIFEST_TYPES}
        key = (ref.registry, ref.repository)
        if key in self._tokens:
            headers["Authorization"] = f"Bearer {self._tokens[key]}"
        status, challenge, digest = await self._head(url, headers, ref)
        if status == 401 and challenge is not None:
            self._tokens[key] = await self._token(challenge, ref)
            headers["Authorization"] = f"Bearer {self._tokens[key]}"
            status, _, digest = await self._head(url, headers, ref)
        if status == 200:
            return digest if _DIGEST.fullmatch(digest) else ""
        if status == 404:
            return None
        if status in (401, 403):
            # Docker Hub answers 401 for repositories that do not exist or are private.
            refused = f"{ref.registry} refused anonymous access to {ref.repository}"
            raise RegistryError(f"{refused} (HTTP {status})")
        if status == 429:
            raise RegistryError(f"{ref.registry} is rate-limiting anonymous requests (HTTP 429)")
        raise RegistryError(f"{ref.registry} answered HTTP {status} for the manifest")

    async def _head(self, url: str, headers: dict[str, str], ref: ImageRef) -> tuple[int, str | None, str]:
        try:
            async with self._session.head(url, headers=headers, timeout=self._timeout) as response:
                challenge = response.headers.get("WWW-Authenticate")
                return response.status, challenge, response.headers.get("Docker-Content-Digest", "")
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise RegistryError(f"registry {ref.registry} unreachable ({_describe(exc)})") from None

    async def _token(self, challenge_header: str, ref: ImageRef) -> str:
        challenge = parse_challenge(challenge_header)
        if challenge is None:
            raise RegistryError(f"{ref.registry} asks for authentication other than anonymous bearer tokens")
        if not realm_allowed(challenge["realm"], ref):
            raise RegistryError(f"{ref.registry} names a token service that is not HTTPS; not followed")
        params = {"scope": challenge.get("scope") or f"repository:{ref.repository}:pull"}
        if "service" in challenge:
            params["service"] = challenge["service"]
        try:
            get = self._session.get(
                challenge["realm"], params=params, timeout=self._timeout, allow_redirects=False
            )  # the realm was vetted; where it might redirect was not
            async with get as response:
                if response.status != 200:
                    raise RegistryError(
                        f"token service of {ref.registry} refused an anonymous token (HTTP {response.status})"
                    )
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            raise RegistryError(f"token service of {ref.registry} unreachable ({_describe(exc)})") from None
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"token service of {ref.registry} returned no token")
        return token


def _describe(exc: BaseException) -> str:
    """An exception as a short reason without URLs' query strings (tokens never travel there, but
    realms could carry anything)."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect: {exc.os_error.strerror or exc.os_error}"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    text = str(exc).split("?", 1)[0].strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
