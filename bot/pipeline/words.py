"""Splits a command line into words as `shlex.split` does (POSIX quoting), in time linear in its length."""

from __future__ import annotations

import re

# shlex's POSIX whitespace; a plain run and a run inside double quotes are single character classes
# matched once each, so no character is looked at twice.
_SPACE = frozenset(" \t\r\n")
_PLAIN = re.compile(r"[^ \t\r\n\\'\"]+")
_IN_DOUBLE = re.compile(r'[^"\\]+')


def split_words(line: str) -> tuple[str, ...] | None:
    """The words of `line`, quotes and backslashes read as `shlex.split` reads them.

    None where `shlex.split` raises (a quote left open, a backslash at the end). `shlex` grows each
    word by one character at a time (`token += char` on an attribute, which copies the word), so a
    long word costs time quadratic in its length; here each word is joined once from slices.
    """
    words: list[str] = []
    parts: list[str] = []
    in_word = False
    index, end = 0, len(line)
    while index < end:
        char = line[index]
        if char in _SPACE:
            if in_word:
                words.append("".join(parts))
                parts, in_word = [], False
            index += 1
            continue
        in_word = True
        found = _part(line, index, parts)
        if found is None:
            return None
        index = found
    if in_word:
        words.append("".join(parts))
    return tuple(words)


def _part(line: str, index: int, parts: list[str]) -> int | None:
    """Reads the part of a word that starts at `index` (not a space) into `parts`: an escaped
    character, a quoted string or a plain run. The index after it; None for an unclosed quote or
    a backslash at the end."""
    char = line[index]
    if char == "\\":
        if index + 1 == len(line):
            return None
        parts.append(line[index + 1])
        return index + 2
    if char == "'":
        close = line.find("'", index + 1)
        if close < 0:
            return None
        parts.append(line[index + 1 : close])
        return close + 1
    if char == '"':
        return _double_quoted(line, index + 1, parts)
    match = _PLAIN.match(line, index)
    assert match is not None  # noqa: S101 - `char` itself is plain
    parts.append(match.group())
    return match.end()


def _double_quoted(line: str, index: int, parts: list[str]) -> int | None:
    """Reads a double-quoted string from just after its opening quote; the index after its closing one."""
    end = len(line)
    while index < end:
        char = line[index]
        if char == '"':
            return index + 1
        if char == "\\":
            if index + 1 == end:
                return None
            following = line[index + 1]
            # Inside double quotes a backslash escapes only `"` and itself, as in shlex.
            parts.append(following if following in '"\\' else "\\" + following)
            index += 2
            continue
        match = _IN_DOUBLE.match(line, index)
        assert match is not None  # noqa: S101 - `char` is neither a quote nor a backslash
        parts.append(match.group())
        index = match.end()
    return None
