"""Markdown neutralising: mentions, HTML and code spans in untrusted text."""

from __future__ import annotations

from bot.text.markdown import block, code, inline


def test_markdown_neutralising() -> None:
    assert inline("@octocat <img src=x> `x` [a](b)") == (
        "@\u200boctocat &lt;img src=x&gt; \\`x\\` \\[a\\](b)"
    )
    assert code("a`b") == "``a`b``"
    assert block("```\n@team") == "````text\n```\n@\u200bteam\n````"


def test_quote_keeps_markdown_but_no_html_pings_or_issue_links() -> None:
    from bot.text.markdown import quote

    text = "## Changes\r\n- fix by @bob in #42 (GH-7)\n<details>x</details>\n\n```\ncode\n```"
    assert quote(text) == (
        "> ## Changes\n> - fix by @\u200bbob in #\u200b42 (GH-\u200b7)\n"
        "> &lt;details&gt;x&lt;/details&gt;\n>\n"
        "> ```\n> code\n> ```"
    )
    assert quote("a/b#3 and C#1 stay") == "> a/b#3 and C#1 stay"


def test_link_takes_only_http_urls_and_cannot_be_broken_out_of() -> None:
    from bot.text.markdown import link

    assert link("Docs [x]", "https://example.org/a(b)") == "[Docs \\[x\\]](https://example.org/a%28b%29)"
    assert link("Bad", "javascript:alert(1)") == "Bad: `javascript:alert(1)`"
    assert link("Space", "https://example.org/a b") == "Space: `https://example.org/a b`"
