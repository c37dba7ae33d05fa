"""Neutralises untrusted text for Markdown with code spans: no @mention pings, no raw HTML, no breakouts.

Nothing is escaped with backslashes or entities and nothing invisible is added, so the text reads the
same in a file, a terminal and on GitHub, and a command copied from it works. GitHub renders nothing
inside a code span: no mention, link, HTML, emphasis or reference.
"""

from __future__ import annotations

import re
import unicodedata

# A word holding one of these could mean something to GitHub Markdown (emphasis, links, HTML, entities,
# mentions, math, tables, strikethrough), or is a specifier: it is shown as code.
_SPECIAL = frozenset("`\\*_[]<>&|~@$=^")
# What opens a block (list, heading, quote, break) where a line starts: only the first word can.
_LINE_START = ("-", "+", "*", "#", ">", "=")
# Categories that print nothing (controls, format characters such as U+200B and the bidi overrides,
# separators, private use, unassigned), and letters drawn blank.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})
_BLANK = frozenset("\u034f\u115f\u1160\u2800\u3164\uffa0")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_EMOJI = re.compile(r":[a-z0-9_+-]*[a-z][a-z0-9_+-]*:", re.IGNORECASE)
# GitHub links #123, owner/repo#123 and GH-123 to issues, and tells the issue it was mentioned.
_REFERENCE = re.compile(r"#\d|^GH-\d", re.IGNORECASE)
_ORDERED = re.compile(r"\d+[.)]")  # a list item's number, where a line starts
_TRAILING = ".,;:!?"
_RUN = re.compile(r"\S+")
# A phrase in quotes or backticks: opened where a word starts, closed where one ends (an apostrophe
# is neither). Backticks are the writer's own code span (uv writes `torch`): kept as one.
_QUOTED = re.compile(r"""(?<![^\s(\[])(["'`])(?=\S)(.+?)(?<=\S)\1(?=$|[\s,.;:!?)\]])""")


def visible(text: str, *, keep: str = "") -> str:
    """`text` with every character that prints nothing shown as `<U+XXXX>` (those in `keep` stay)."""
    if text.isprintable():
        return text
    return "".join(
        f"<U+{ord(char):04X}>"
        if char not in keep and (unicodedata.category(char) in _INVISIBLE_CATEGORIES or char in _BLANK)
        else char
        for char in text
    )


def _needs_code(word: str) -> bool:
    return (
        not _SPECIAL.isdisjoint(word)
        or word.startswith(("-", "www."))
        or "://" in word
        or _EMOJI.search(word) is not None
        or _REFERENCE.search(word) is not None
    )


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _split_punctuation(word: str) -> tuple[str, str, str]:
    """(before, core, after): sentence punctuation, unbalanced brackets and quotes stay out of the span."""
    before, core, after = "", word, ""
    while core:
        if core[-1] in _TRAILING or (core[-1] == ")" and core.count(")") > core.count("(")):
            core, after = core[:-1], core[-1] + after
        elif core[0] == "(" and core.count("(") > core.count(")"):
            before, core = before + "(", core[1:]
        elif len(core) > 1 and core[0] == "(" and core[-1] == ")" and _balanced(core[1:-1]):
            before, core, after = before + "(", core[1:-1], ")" + after
        elif len(core) > 1 and core[0] == core[-1] and core[0] in "'\"":
            core = core[1:-1]  # a quoted name: the span takes the place of the quotes
        elif core[-1] in "'\"" and core.count(core[-1]) % 2:
            core, after = core[:-1], core[-1] + after
        elif core[0] in "'\"" and core.count(core[0]) % 2:
            before, core = before + core[0], core[1:]
        else:
            break
    return before, core, after


# A piece of rendered prose: (True, text to show as code) or (False, text as it is).
_Piece = tuple[bool, str]


def _word(word: str, *, first: bool) -> list[_Piece]:
    if first and (_ORDERED.fullmatch(word) or word.startswith(_LINE_START)):
        return [(True, word)]
    if not _needs_code(word):
        return [(False, word)]
    before, core, after = _split_punctuation(word)
    if not core or not _needs_code(core):
        return [(True, word)]
    return [(False, before), (True, core), (False, after)]


def _words(text: str, *, start: int) -> list[_Piece]:
    """Each word of `text` (which begins at `start` of the line) neutralised, the spaces kept."""
    pieces: list[_Piece] = []
    done = 0
    for match in _RUN.finditer(text):
        pieces += [
            (False, text[done : match.start()]),
            *_word(match.group(), first=start + match.start() == 0),
        ]
        done = match.end()
    return [*pieces, (False, text[done:])]


def _joined(pieces: list[_Piece]) -> str:
    """The pieces as Markdown; code with nothing between becomes one span, since two fences that
    touch would read as one longer fence and leave the text outside any span."""
    out: list[str] = []
    pending: list[str] = []
    for is_code, text in pieces:
        if is_code:
            pending.append(text)
        elif text:
            out += [code("".join(pending))] if pending else []
            out.append(text)
            pending = []
    out += [code("".join(pending))] if pending else []
    return "".join(out)


def inline(text: object) -> str:
    """Untrusted text for running prose: one line, each word that could mean something as code.

    A quoted phrase holding such a word ("pkg @ url; marker", a command) is one code span instead of
    its quotes, so it reads and copies as one piece.
    """
    flat = visible(" ".join(_ANSI.sub("", str(text)).split()))
    pieces: list[_Piece] = []
    done = 0
    for match in _QUOTED.finditer(flat):
        quote, phrase = match.groups()
        if quote != "`" and not any(_needs_code(word) for word in phrase.split()):
            continue
        pieces += [*_words(flat[done : match.start()], start=done), (True, phrase)]
        done = match.end()
    return _joined([*pieces, *_words(flat[done:], start=done)])


def code(text: object) -> str:
    """Untrusted text as an inline code span that nothing inside can close."""
    flat = visible(" ".join(_ANSI.sub("", str(text)).split()))
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def cell(text: object) -> str:
    """Untrusted prose for a table cell: `inline`, its pipes escaped as GFM tables ask (in code spans too)."""
    return inline(text).replace("|", "\\|")


def code_cell(text: object) -> str:
    """Untrusted text as a code span in a table cell."""
    return code(text).replace("|", "\\|")


def block(text: object) -> str:
    """Untrusted multi-line text (tool output) as a fenced block that nothing inside can close."""
    lines = _ANSI.sub("", str(text)).replace("\r\n", "\n").replace("\r", "\n")
    body = visible(lines, keep="\n\t").rstrip("\n")
    longest = max((len(run) for run in re.findall(r"`{3,}", body)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}text\n{body}\n{fence}"


# In quoted release notes, what GitHub would act on: an @mention (a ping), `#123` or `GH-123` (a link to
# one of this repository's issues) and an HTML tag. Each becomes a code span: inert, and still readable.
_LIVE_IN_QUOTE = re.compile(
    r"(?<![\w`])@[A-Za-z0-9][\w/-]*|(?<![\w/`])(?:#|GH-)\d+|<[^<>\n]*>", re.IGNORECASE
)
_FENCE = re.compile(r"^\s*(```|~~~)")


def quote(text: object) -> str:
    """Untrusted Markdown (a release's notes) as a blockquote: its lists and emphasis kept, but no raw
    HTML, no @mention pings and no `#123` that GitHub would link to this repository's issues. Lines of
    a fenced code block stay as written: nothing there is acted on."""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").strip("\n").split("\n")
    out = []
    fenced = False
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            line = _LIVE_IN_QUOTE.sub(lambda m: code(m.group(0)), line)
        out.append(("> " + line).rstrip())
    return "\n".join(out)


def html_inline(text: object) -> str:
    """Untrusted text inside an HTML element of the summary (a `<summary>`), where Markdown code spans
    do not apply: HTML-escaped, on one line, each @mention or issue reference in `<code>` (GitHub acts
    on neither there)."""
    line = visible(" ".join(_ANSI.sub("", str(text)).split()))
    escaped = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _LIVE_IN_QUOTE.sub(lambda m: f"<code>{m.group(0)}</code>", escaped)


def link(label: object, url: object) -> str:
    """A Markdown link to an untrusted http(s) URL with an untrusted label; any other URL is shown as code."""
    target = str(url).strip()
    if not re.fullmatch(r"https?://[^\s<>]+", target):
        return f"{inline(label)}: {code(target)}"
    escaped = target.replace("(", "%28").replace(")", "%29").replace("\\", "%5C")
    return f"[{inline(label)}]({escaped})"
