"""The shapes of GitHub names we accept (logins, repositories, refs, shas, clone URLs), as typed constraints.

Each is an `Annotated` str or int that msgspec enforces when a payload or a stored job spec is decoded.
Every pattern is anchored and unambiguous (no two ways to match a character, so no backtracking), and
every string has a length limit, so checking one costs time linear in its length, bounded by the limit.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from msgspec import Meta

# SQLite's INTEGER, and more than any id GitHub hands out.
Id = Annotated[int, Meta(ge=1, le=2**63 - 1)]

# GitHub logins: alphanumerics and single hyphens inside, at most 39 characters. Apps act as `<slug>[bot]`.
_LOGIN = r"[A-Za-z0-9](?:-?[A-Za-z0-9])*"
Login = Annotated[str, Meta(pattern=rf"^(?=.{{1,39}}(?:\[bot\])?\Z){_LOGIN}(?:\[bot\])?\Z", max_length=44)]
# `owner/name`: the owner is a login, the name letters, digits, `.`, `_` and `-` (not `.` or `..`).
_FULL_NAME = rf"(?=[^/]{{1,39}}/){_LOGIN}/(?!\.\.?\Z)[A-Za-z0-9._-]{{1,100}}"
FullName = Annotated[str, Meta(pattern=rf"^{_FULL_NAME}\Z", max_length=140)]
# The head repository of a pull request whose fork was deleted has no name.
FullNameOrNone = Annotated[str, Meta(pattern=rf"^(?:{_FULL_NAME})?\Z", max_length=140)]

# A branch name `git check-ref-format --branch` accepts: no control characters, space, `~^:?*[\`,
# `..`, `@{`, `//`; no component starting with `.` or ending in `.lock`; not starting with `-` or
# `/`, not ending with `/` or `.`, not `@` or `HEAD`. GitHub keeps ref names within 255 bytes.
_BRANCH = (
    r"(?=[^\x00-\x20\x7f~^:?*\[\\]{1,255}\Z)"
    r"(?![-/.])(?!@\Z)(?!HEAD\Z)"
    r"(?!.*(?:\.\.|@\{|//|/\.|\.lock/|\.lock\Z|[/.]\Z))"
)
Branch = Annotated[str, Meta(pattern=rf"(?s)^{_BRANCH}", max_length=255)]
BranchOrNone = Annotated[str, Meta(pattern=rf"(?s)^(?:\Z|{_BRANCH})", max_length=255)]

Sha = Annotated[str, Meta(pattern=r"^[0-9a-f]{40}\Z", min_length=40, max_length=40)]

# What a job may clone. GitHub sends the repository's own https URL (`https://host/owner/name.git`,
# checked against its full name at the edge, see `clone_url_problem`); plain http only comes from a
# GitHub Enterprise Server without TLS (octokit's check_run example has one). A local bare repository
# (`file:///path`) is what a GitHub test double or an offline mirror serves. git's other transports
# (ssh, git://, ext::) and URLs with credentials or a query are never accepted.
_HTTP = r"https?://[A-Za-z0-9.-]{1,253}(?::[0-9]{1,5})?/[^\x00-\x20\x7f?#\\]{1,2000}"
_FILE = r"file:///[^\x00-\x20\x7f?#\\]{1,4000}"
CloneUrl = Annotated[str, Meta(pattern=rf"^(?:{_HTTP}|{_FILE})\Z", max_length=4096)]

# Comment, issue and pull request bodies: GitHub refuses more than 65,536 characters.
MAX_BODY = 65_536
Body = Annotated[str, Meta(max_length=MAX_BODY)]
Title = Annotated[str, Meta(max_length=1024)]  # GitHub allows 256; some room for how it counts
Word = Annotated[str, Meta(max_length=32)]  # `type`, `state`: short enumerations we compare with

# Headers. A delivery id is a GUID from GitHub; tests and redeliveries use other plain names. No `/`:
# the second job of one delivery is stored as `<delivery>/1`.
DELIVERY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
EVENT = re.compile(r"[a-z_]{1,64}")
SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")


def clone_url_problem(clone_url: str, full_name: str) -> str | None:
    """Why an http(s) clone URL is not the one of repository `full_name` (`https://host/owner/name[.git]`)."""
    if clone_url.startswith("file://"):
        return None
    path = urlsplit(clone_url).path.removesuffix(".git")
    if path.lower() != f"/{full_name}".lower():
        return "is not the URL of the repository it belongs to (https://host/owner/name.git)"
    return None
