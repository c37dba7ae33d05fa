"""Tag checks against the real reference OCI registry on loopback: open and token-authenticated."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from bot.containers.registry import (
    ImageRef,
    RegistryClient,
    is_loopback,
    parse_challenge,
    parse_image,
    realm_allowed,
)
from bot.errors import RegistryError
from tests.support.http import free_port
from tests.support.registry import Registry, TokenIssuer, run_registry

pytest_plugins = ["tests.support.registry_fixtures"]


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    issuer = TokenIssuer(refuse={"private/image"})
    with (
        issuer.serve() as realm,
        run_registry(tmp_path_factory.mktemp("token"), issuer=issuer, realm=realm) as running,
    ):
        running.push("acme/runtime", "2.10.0-cuda12")
        yield running


async def test_existing_and_missing_tags(registry: Registry, client: RegistryClient) -> None:
    assert (
        await client.tag_exists(parse_image(f"{registry.host}/lmsysorg/sglang", "v0.5.11-runtime"))
        == "exists"
    )
    assert (
        await client.tag_exists(parse_image(f"{registry.host}/lmsysorg/sglang", "v0.5.12-runtime"))
        == "missing"
    )
    assert await client.tag_exists(parse_image(f"{registry.host}/nobody/nothing", "1.0")) == "missing"


async def test_unreachable_registry_is_an_error_with_the_reason(client: RegistryClient) -> None:
    with pytest.raises(RegistryError, match=r"registry 127\.0\.0\.1:\d+ unreachable \(cannot connect: "):
        await client.tag_exists(parse_image(f"127.0.0.1:{free_port()}/lmsysorg/sglang", "v1"))


async def test_bearer_token_flow_against_token_authenticated_registry(
    token_registry: Registry, client: RegistryClient
) -> None:
    assert token_registry.issuer is not None
    token_registry.issuer.asked.clear()
    ref = parse_image(f"{token_registry.host}/acme/runtime", "2.10.0-cuda12")
    assert await client.tag_exists(ref) == "exists"
    assert token_registry.issuer.asked == [
        {"scope": "repository:acme/runtime:pull", "service": "test-registry"}
    ]
    assert await client.tag_exists(ImageRef(ref.registry, ref.repository, "2.11.0-cuda12")) == "missing"
    assert len(token_registry.issuer.asked) == 1  # the token of the first check was reused


async def test_a_rejected_cached_token_is_replaced(token_registry: Registry) -> None:
    assert token_registry.issuer is not None
    async with aiohttp.ClientSession() as session:
        client = RegistryClient(session=session, timeout=5)
        ref = parse_image(f"{token_registry.host}/acme/runtime", "2.10.0-cuda12")
        client._tokens[(ref.registry, ref.repository)] = "not-a-valid-token"
        token_registry.issuer.asked.clear()
        assert await client.tag_exists(ref) == "exists"
        assert len(token_registry.issuer.asked) == 1


async def test_registry_rejects_a_token_it_cannot_verify(tmp_path: Path, client: RegistryClient) -> None:
    trusted, forger = TokenIssuer(), TokenIssuer()
    # The registry trusts `trusted`'s certificate, but the realm hands out tokens signed by `forger`.
    with forger.serve() as realm, run_registry(tmp_path, issuer=trusted, realm=realm) as running:
        running.issuer = trusted
        running.push("acme/runtime", "1.0")
        with pytest.raises(RegistryError, match="refused anonymous access to acme/runtime \\(HTTP 401\\)"):
            await client.tag_exists(parse_image(f"{running.host}/acme/runtime", "1.0"))


async def test_token_service_refusal_is_an_error(token_registry: Registry, client: RegistryClient) -> None:
    with pytest.raises(RegistryError, match=r"refused an anonymous token \(HTTP 401\)"):
        await client.tag_exists(parse_image(f"{token_registry.host}/private/image", "1.0"))


@pytest.mark.parametrize(
    ("repository", "expected"),
    [
        ("python", ImageRef("docker.io", "library/python", "t")),
        ("lmsysorg/sglang", ImageRef("docker.io", "lmsysorg/sglang", "t")),
        ("docker.io/library/python", ImageRef("docker.io", "library/python", "t")),
        ("index.docker.io/lmsysorg/sglang", ImageRef("docker.io", "lmsysorg/sglang", "t")),
        ("ghcr.io/sgl-project/sglang", ImageRef("ghcr.io", "sgl-project/sglang", "t")),
        ("localhost:5000/team/app", ImageRef("localhost:5000", "team/app", "t")),
    ],
)
def test_references_are_normalised_as_docker_does(repository: str, expected: ImageRef) -> None:
    assert parse_image(repository, "t") == expected


def test_hosts_and_schemes() -> None:
    assert parse_image("python", "3").base_url == "https://registry-1.docker.io"
    assert parse_image("ghcr.io/a/b", "1").base_url == "https://ghcr.io"
    assert parse_image("127.0.0.1:5000/a/b", "1").base_url == "http://127.0.0.1:5000"
    assert [is_loopback(h) for h in ("localhost", "127.0.0.2:80", "[::1]:5000", "10.0.0.1", "ghcr.io")] == [
        True, True, True, False, False,
    ]  # fmt: skip


def test_challenge_parsing() -> None:
    header = (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull"'
    )
    assert parse_challenge(header) == {
        "realm": "https://auth.docker.io/token",
        "service": "registry.docker.io",
        "scope": "repository:a/b:pull",
    }
    assert parse_challenge('Basic realm="x"') is None


def test_token_services_are_followed_over_https_or_on_loopback_only() -> None:
    hub, local = parse_image("lmsysorg/sglang", "v1"), parse_image("127.0.0.1:5000/a/b", "1")
    assert realm_allowed("https://auth.docker.io/token", hub)
    assert not realm_allowed("http://169.254.169.254/latest/meta-data", hub)
    assert not realm_allowed("http://127.0.0.1:8080/token", hub)
    assert realm_allowed("http://127.0.0.1:8080/token", local)
    assert not realm_allowed("http://10.0.0.5/token", local)
    assert not realm_allowed("file:///etc/passwd", local)
