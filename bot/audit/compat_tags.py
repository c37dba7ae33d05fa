"""Reads a compat fallback's removal tag (`# Fallback for sglang <= 0.5.9. Remove when min supported
version is 0.6.0+`) into what it covers and when it retires, in the wordings real shims use (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

# Why a tag cannot be evaluated against the minimum supported version (None: it can).
Unevaluable = Literal["no-condition", "condition", "partial", "other-pin", "version"]

_VERSION = r"(?P<version>v?\d+(?:\.\w+)*)(?P<plus>\+)?"
_COVERS = re.compile(
    r"\bfallback\s+for\s+(?P<subject>.*?)\s*(?P<op><=|<|==|>=)?\s*" + _VERSION + r"(?=$|[\s.,;:)])",
    re.I,
)
# "Remove when …", "Remove the 0.5.18 portion when …", "Delete once …", "Keep … until …": the clause
# runs to the end of its sentence (a period followed by a space or the end, since versions hold dots).
_WITHIN_SENTENCE = r"(?:[^.;]|\.(?!\s|$))*?"  # no sentence end; the dots of versions are fine
_SENTENCE_END = r"\s*(?:\.(?=\s|$)|;|$)"
_REMOVE = re.compile(
    r"\b(?:remove|delete|drop)\b(?P<what>" + _WITHIN_SENTENCE + r")\b(?:when|once|after)\b\s*"
    r"(?P<condition>.+?)" + _SENTENCE_END,
    re.I,
)
_UNTIL = re.compile(
    r"\bkeep\b(?P<what>" + _WITHIN_SENTENCE + r")\buntil\b\s*(?P<condition>.+?)" + _SENTENCE_END, re.I
)
# The one condition a bump can judge: "(the) min(imum) supported [package] [version|release] is N(+)".
_MIN_SUPPORTED = re.compile(
    r"^(?:the\s+)?min(?:imum)?\.?\s+supported\s+(?:(?!version\b|release\b)(?P<package>[\w.-]+)\s+)?"
    r"(?:version\s+|release\s+)?(?:is|=|>=|reaches|becomes)\s*(?:>=\s*)?"
    r"v?(?P<version>[0-9A-Za-z][\w.]*?)\+?\s*(?:$|[,;(])",
    re.I,
)
_PARTIAL = re.compile(r"\b(?:portion|part)\b", re.I)


@dataclass(frozen=True)
class Tag:
    """One fallback's tag comment, read: what it covers, when it retires, and whether that can be judged."""

    text: str  # the comment as written, its lines joined with spaces, without the `#`s
    line: int  # its first and last line in the file (1-based)
    end_line: int
    covers: str | None  # the versions the branch serves as written ("<= 0.5.9", "0.5.18"), if it says
    condition: str | None  # the removal condition as written ("min supported version is 0.6.0+")
    remove_at: str | None  # the minimum supported version of the package that retires the branch
    unevaluable: Unevaluable | None  # None: the branch retires exactly when the floor reaches remove_at

    @property
    def evaluable(self) -> bool:
        return self.unevaluable is None


def _subject_is(subject: str, package: str) -> bool:
    """The covered versions are of the package itself, not of another pin (`the XPU SGLang 0.5.11`)."""
    return not subject or canonicalize_name(subject) == canonicalize_name(package)


def read_tag(text: str, package: str, *, line: int, end_line: int) -> Tag | None:
    """The tag a comment makes, or None when it says neither what the branch covers nor when to remove it."""
    covers = _COVERS.search(text)
    removal = _REMOVE.search(text) or _UNTIL.search(text)
    if covers is None and removal is None:
        return None
    covered = (
        text[covers.start("op") if covers["op"] else covers.start("version") : covers.end("version")]
        if covers
        else None
    )
    condition = removal["condition"].strip() if removal else None
    floor = _MIN_SUPPORTED.match(condition) if condition else None
    remove_at = floor["version"] if floor else None
    unevaluable: Unevaluable | None = None
    if removal is None:
        unevaluable = "no-condition"
    elif floor is None or (floor["package"] and not _subject_is(floor["package"], package)):
        unevaluable, remove_at = "condition", None
    elif _PARTIAL.search(removal["what"]):
        unevaluable = "partial"
    elif covers is not None and not _subject_is(covers["subject"], package):
        unevaluable = "other-pin"
    elif remove_at is not None and not _is_version(remove_at):
        unevaluable = "version"
    return Tag(text, line, end_line, covered, condition, remove_at, unevaluable)


def retired(tag: Tag, floor: str | None) -> bool | None:
    """True when the minimum supported version `floor` retires the tagged branch, False when not yet,
    None when the tag cannot be judged or no floor is known."""
    if not tag.evaluable or floor is None or tag.remove_at is None:
        return None
    try:
        return Version(floor) >= Version(tag.remove_at)
    except InvalidVersion:
        return None


def _is_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True
