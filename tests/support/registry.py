"""Starts Debian's reference OCI registry (`docker-registry`) on loopback and pushes images to it."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import secrets
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.support.http import free_port

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@dataclass
class TokenIssuer:
    """The auth service of a token-authenticating registry: signs JWTs the registry verifies against
    its `rootcertbundle`, as auth.docker.io does for Docker Hub. Records what it was asked."""

    service: str = "test-registry"
    issuer: str = "test-issuer"
    refuse: set[str] = field(default_factory=set)  # repositories it will not grant access to
    asked: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test token issuer")])
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )  # fmt: skip

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def token(self, scope: str) -> str | None:
        access = []
        for item in scope.split():
            kind, name, actions = item.split(":", 2)
            if name in self.refuse:
                return None
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        claims = {
            "iss": self.issuer, "sub": "", "aud": self.service, "exp": now + 300, "nbf": now - 10,
            "iat": now, "jti": secrets.token_hex(8), "access": access,
        }  # fmt: skip
        der = self.cert.public_bytes(serialization.Encoding.DER)
        headers = {"x5c": [base64.b64encode(der).decode()]}
        return jwt.encode(claims, self.key, algorithm="RS256", headers=headers)

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Serve `GET /token?service=..&scope=..` on loopback; yield the realm URL."""
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                issuer.asked.append(query)
                token = issuer.token(query.get("scope", ""))
                body = json.dumps({"token": token} if token else {"details": "access denied"}).encode()
                self.send_response(200 if token else 401)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/token"
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


@dataclass
class Registry:
    """A running `docker-registry serve`, reachable at `host` (127.0.0.1:port) over plain HTTP."""

    host: str
    issuer: TokenIssuer | None = None

    def _request(self, method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None,
                 scope: str = "") -> tuple[int, dict[str, str]]:  # fmt: skip
        headers = dict(headers or {})
        for _ in range(2):
            # S310: `url` is always the http:// registry a test started on loopback.
            request = urllib.request.Request(url, data=body or None, method=method, headers=headers)  # noqa: S310
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                    return response.status, dict(response.headers)
            except urllib.error.HTTPError as error:
                if error.code != 401 or self.issuer is None or "Authorization" in headers:
                    raise
                headers["Authorization"] = f"Bearer {self.issuer.token(scope)}"
        raise AssertionError("unreachable")

    def _blob(self, repository: str, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        scope = f"repository:{repository}:pull,push"
        _, headers = self._request("POST", f"http://{self.host}/v2/{repository}/blobs/uploads/", scope=scope)
        location = urllib.parse.urljoin(f"http://{self.host}/", headers["Location"])
        joiner = "&" if "?" in location else "?"
        upload = f"{location}{joiner}digest={urllib.parse.quote(digest)}"
        self._request("PUT", upload, data, {"Content-Type": "application/octet-stream"}, scope)
        return digest

    def push(self, repository: str, tag: str) -> str:
        """Push a one-layer OCI image as `repository:tag` through the HTTP API; return its digest."""
        layer = f"layer of {repository}:{tag}".encode()
        config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}).encode()
        descriptors = []
        for media_type, data in (("application/vnd.oci.image.config.v1+json", config),
                                 ("application/vnd.oci.image.layer.v1.tar", layer)):  # fmt: skip
            descriptors.append(
                {"mediaType": media_type, "digest": self._blob(repository, data), "size": len(data)}
            )
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": descriptors[0],
                "layers": descriptors[1:],
            }
        ).encode()
        url = f"http://{self.host}/v2/{repository}/manifests/{tag}"
        self._request(
            "PUT", url, manifest, {"Content-Type": OCI_MANIFEST}, f"repository:{repository}:pull,push"
        )
        return "sha256:" + hashlib.sha256(manifest).hexdigest()


def _config(root: Path, port: int, auth: str) -> str:
    return f"""version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root / "data"}
http:
  addr: 127.0.0.1:{port}
{auth}"""


@contextmanager
def run_registry(root: Path, *, issuer: TokenIssuer | None = None, realm: str = "") -> Iterator[Registry]:
    """Start the registry with filesystem storage under `root` (token auth when `issuer` is given)."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    auth = ""
    if issuer is not None:
        (root / "issuer.pem").write_bytes(issuer.cert_pem())
        auth = (
            f"auth:\n  token:\n    realm: {realm}\n    service: {issuer.service}\n"
            f"    issuer: {issuer.issuer}\n    rootcertbundle: {root / 'issuer.pem'}\n"
        )
    config = root / "config.yml"
    config.write_text(_config(root, port, auth))
    log = (root / "registry.log").open("wb")
    process = subprocess.Popen(
        ["docker-registry", "serve", str(config)], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        _wait_ready(port, process, root / "registry.log")
        yield Registry(f"127.0.0.1:{port}", issuer)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"docker-registry did not listen on {port}: {log.read_text()}")
