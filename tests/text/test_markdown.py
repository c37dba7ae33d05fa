"""Markdown neutralising: mentions, HTML and code spans in untrusted text."""

from __future__ import annotations

from bot.text.markdown import block, code, inline


def test_markdown_neutralising() -> None:
    assert inline("@octocat <img src=x> `x` [a](b)") == (
        "@\u200boctocat &lt;img src=x&gt; \\`x\\` \\[a\\](b)"
    )
    assert code("a`b") == "``a`b``"
    assert block("```\n@team") == "````text\n```\n@\u200bteam\n````"
