"""What GitHub would make of rendered Markdown: mentions, raw HTML, escapes, invisible characters.

Parsed with markdown-it-py (CommonMark with GFM tables and strikethrough) rather than by pattern, so a
mention or a tag inside a code span is told from one in running text as GitHub tells them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from markdown_it import MarkdownIt
from markdown_it.token import Token

# GitHub links @login and @org/team where @ follows no word character.
_MENTION = re.compile(r"(?<![\w`])@[A-Za-z0-9]")
_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})


def parser() -> MarkdownIt:
    # text_join would fold escapes and entities back into the text around them: keep them apart.
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).disable("text_join")


def _walk(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        yield from _walk(token.children or [])


def invisible(text: str) -> list[str]:
    """Characters of `text` that print nothing (newlines and tabs aside), as U+XXXX."""
    return [
        f"U+{ord(char):04X}"
        for char in text
        if char not in "\n\t" and unicodedata.category(char) in _INVISIBLE
    ]


def hazards(markdown: str) -> list[str]:
    """Everything in `markdown` that pings, renders HTML, shows an escape or hides a character."""
    found = [f"invisible character {name}" for name in invisible(markdown)]
    for token in _walk(parser().parse(markdown)):
        if token.type in ("html_inline", "html_block"):
            found.append(f"raw HTML: {token.content!r}")
        elif token.type == "text_special":
            found.append(f"{token.info or 'escape'} {token.markup!r} in running text")
        elif token.type == "text" and _MENTION.search(token.content):
            found.append(f"mention in running text: {token.content!r}")
    return found
