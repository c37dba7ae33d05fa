"""Neutralises untrusted text before it reaches Markdown: no @mention pings, no raw HTML, no breakouts."""

from __future__ import annotations

import re

_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "`": "\\`",
    "[": "\\[",
    "]": "\\]",
    "|": "\\|",
    "*": "\\*",
    "_": "\\_",
}
_PATTERN = re.compile("|".join(re.escape(key) for key in _ESCAPES))


def inline(text: object) -> str:
    """Untrusted text for running prose or a table cell: one line, escaped, mentions defused."""
    flat = " ".join(str(text).split())
    escaped = _PATTERN.sub(lambda match: _ESCAPES[match.group(0)], flat)
    # A zero-width space after @ keeps the text readable and stops GitHub from pinging anyone.
    return escaped.replace("@", "@\u200b")


def code(text: object) -> str:
    """Untrusted text as an inline code span that nothing inside can close."""
    flat = " ".join(str(text).split()).replace("@", "@\u200b")
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def block(text: object) -> str:
    """Untrusted multi-line text (tool output) as a fenced block that nothing inside can close."""
    body = str(text).rstrip("\n").replace("@", "@\u200b")
    longest = max((len(run) for run in re.findall(r"`{3,}", body)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}text\n{body}\n{fence}"


_REFERENCE = re.compile(r"(?<![\w/])(#|GH-)(\d)")  # `#123`, `GH-123`: GitHub would link our own issues


def quote(text: object) -> str:
    """Untrusted Markdown (a release's notes) as a blockquote: its lists and emphasis kept, but no raw
    HTML, no @mention pings and no `#123` that GitHub would link to this repository's issues."""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").strip("\n").split("\n")
    out = []
    for line in lines:
        safe = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("@", "@\u200b")
        out.append(("> " + _REFERENCE.sub("\\1\u200b\\2", safe)).rstrip())
    return "\n".join(out)


def link(label: object, url: object) -> str:
    """A Markdown link to an untrusted http(s) URL with an untrusted label; any other URL is shown as code."""
    target = str(url).strip()
    if not re.fullmatch(r"https?://[^\s<>]+", target):
        return f"{inline(label)}: {code(target)}"
    escaped = target.replace("(", "%28").replace(")", "%29").replace("\\", "%5C")
    return f"[{inline(label)}]({escaped})"
