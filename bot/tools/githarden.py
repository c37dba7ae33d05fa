"""What every git call on a repository we do not trust runs with: no hooks, no fsmonitor, one protocol."""

from __future__ import annotations

from urllib.parse import urlsplit

# Repository code ran in this clone (read-only .git in the sandbox, but a clone's config, hooks and
# attributes are still the repository's to shape): nothing git would run from there runs.
OPTIONS = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.fsmonitor=false",
    "-c", "credential.helper=",
    "-c", "protocol.allow=never",
)  # fmt: skip
# The system's and the service user's git configuration are not ours to inherit (a credential helper,
# an insteadOf redirect); the clone's own config carries the identity.
ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_TERMINAL_PROMPT": "0"}


def protocol(url: str) -> str:
    """The transport git uses for `url`: a scheme, or `file` for a local path."""
    scheme = urlsplit(url).scheme
    return scheme if scheme in ("https", "http", "ssh", "file") else "file"


def options(url: str) -> tuple[str, ...]:
    """The hardening options, allowing only the protocol of the remote we cloned."""
    return (*OPTIONS, "-c", f"protocol.{protocol(url)}.allow=always")


# For a local checkout (`upgrade-deps run`): the user's own config stays, hooks and fsmonitor do not.
LOCAL_OPTIONS = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false")
