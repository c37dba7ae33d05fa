"""Parses the words after `/upgrade-deps` into a Request (PEP 508 names, PEP 440 versions)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from bot.errors import BadArgumentsError
from bot.model import Request, Requested

MAX_ARGS = 20
# A word longer than this is refused by its length before anything else looks at it. Package names,
# PEP 440 versions, variant names and container tags (at most 128 characters) fit with room to spare.
MAX_WORD = 256
MAX_WORDS = 64
# PEP 508 distribution names: letters, digits, and . _ - inside.
_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_VARIANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]*$")  # a workspace member: its directory
USAGE = "pkg==version[@variant] ... [--image-tag TAG] [--allow-downgrade]"


def _parse_one(arg: str, position: int) -> Requested:
    where = f"argument {position} ({arg!r})"
    if "==" not in arg:
        raise BadArgumentsError(f"{where}: expected pkg==version or pkg==version@variant")
    name, _, rest = arg.partition("==")
    version_text, at, variant = rest.partition("@")
    if not _NAME.match(name):
        raise BadArgumentsError(f"{where}: {name!r} is not a valid package name (PEP 508)")
    if at and not _VARIANT.match(variant):
        raise BadArgumentsError(f"{where}: {variant!r} is not a valid variant name")
    if not version_text:
        raise BadArgumentsError(f"{where}: the version is missing")
    try:
        version = Version(version_text)
    except InvalidVersion:
        raise BadArgumentsError(f"{where}: {version_text!r} is not a valid version (PEP 440)") from None
    return Requested(
        name=canonicalize_name(name), display=name, version=str(version), variant=variant or None
    )


def _check_lengths(words: Sequence[str]) -> None:
    """Bound the work and the reply: no regex, version parser or message sees an over-long word."""
    if len(words) > MAX_WORDS:
        raise BadArgumentsError(f"{len(words)} words given; at most {MAX_WORDS}")
    for position, word in enumerate(words, 1):
        if len(word) > MAX_WORD:
            raise BadArgumentsError(
                f"word {position} ({word[:40]!r}...) is {len(word)} characters long; at most {MAX_WORD}"
            )


def _check_items(items: Sequence[Requested]) -> None:
    """At most MAX_ARGS packages, none asked twice for one variant, none asked both ways."""
    if len(items) > MAX_ARGS:
        raise BadArgumentsError(f"{len(items)} packages given; at most {MAX_ARGS} per request")
    seen: dict[tuple[str, str | None], Requested] = {}
    for item in items:
        key = (item.name, item.variant)
        if key in seen:
            raise BadArgumentsError(f"{item.text!r} repeats {seen[key].text!r}")
        seen[key] = item
    for item in items:
        if item.variant is None and any(other.name == item.name and other.variant for other in items):
            raise BadArgumentsError(f"{item.text!r} mixes a version for all variants with per-variant ones")


def parse_request(args: Sequence[str]) -> Request:
    """Parse command words; raise BadArgumentsError naming the argument and what is wrong."""
    items: list[Requested] = []
    image_tag: str | None = None
    allow_downgrade = False
    words = list(args)
    _check_lengths(words)
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--image-tag":
            if index + 1 >= len(words) or words[index + 1].startswith("--"):
                raise BadArgumentsError("--image-tag needs a tag, e.g. --image-tag v0.5.11-cu130-runtime")
            image_tag = words[index + 1]
            index += 2
            continue
        if word == "--allow-downgrade":
            allow_downgrade = True
        elif word.startswith("--"):
            raise BadArgumentsError(f"unknown option {word!r}; usage: {USAGE}")
        else:
            items.append(_parse_one(word, len(items) + 1))
        index += 1
    if not items:
        raise BadArgumentsError(f"no package given; usage: {USAGE}")
    _check_items(items)
    return Request(
        items=tuple(items),
        raw=shlex.join(words),
        image_tag=image_tag,
        allow_downgrade=allow_downgrade,
    )
