"""Markdown neutralising: untrusted words as code spans, never escapes, pings, HTML or hidden characters."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.text.markdown import block, cell, code, code_cell, inline
from tests.conftest import examples
from tests.support.markdown_safety import hazards, invisible, parser

PROPERTY = settings(max_examples=examples(0.4), suppress_health_check=[HealthCheck.too_slow])
# Every character Markdown, GitHub or a terminal treats specially, and a few plain ones.
_CHARS = list("aZ09-_./@:;,!?()[]{}~^*+=#$%&<>|`\\'\" \t\r\n\x00\x1b\x7f\u00a0é€𝄞\u200b\u202e\ufeff\u3164")
TEXT = st.text(st.sampled_from(_CHARS), max_size=60) | st.text(max_size=30)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("@octocat <img src=x> `x` [a](b)", "`@octocat` `<img` `src=x>` `x` `[a](b)`"),
        ("requires transformers>=4.57; our pin", "requires `transformers>=4.57`; our pin"),
        ("the keyword 'tp_size' (renamed to 'tensor_parallel_size'?).",
         "the keyword `tp_size` (renamed to `tensor_parallel_size`?)."),
        ("ranges (>=0.5.11,<1)", "ranges (`>=0.5.11,<1`)"),
        ("run torch==2.10.0@vllm again", "run `torch==2.10.0@vllm` again"),
        ("no [[container]] rule", "no `[[container]]` rule"),
        ('command "smoke" failed', 'command "smoke" failed'),
        ("1. first", "`1.` first"),
        ("- not a list", "`-` not a list"),
        ("see https://example.invalid/x, #12 or GH-3 :tada:",
         "see `https://example.invalid/x`, `#12` or `GH-3` `:tada:`"),
        ("zero\u200bwidth \u202eflipped", "`zero<U+200B>width` `<U+202E>flipped`"),
        ("\x1b[31mred\x1b[0m text", "red text"),
        ("plain words stay plain: 0.5.10, 2.2.6.", "plain words stay plain: 0.5.10, 2.2.6."),
        ('"x @ git+https://h/x.git@1; os_name == \'nt\'" is not valid',
         "`x @ git+https://h/x.git@1; os_name == 'nt'` is not valid"),
        ('command "pre-commit run --all-files" failed', "command `pre-commit run --all-files` failed"),
        ("the repository's policy and the users' files", "the repository's policy and the users' files"),
        # uv's own code spans stay one span each, not a span around backticks.
        ("Source entry for `torch` only applies to extra `sglang` (e.g., `extra = \"sglang\"`).",
         'Source entry for `torch` only applies to extra `sglang` (e.g., `extra = "sglang"`).'),
        # Spans that would touch are one: two fences side by side read as one longer fence.
        ("`0`)`", "`` 0)` ``"),
        ("`x`;`y`", "`` x;`y` ``"),
    ],
)  # fmt: skip
def test_untrusted_words_that_mean_something_become_code(text: str, shown: str) -> None:
    assert inline(text) == shown
    assert hazards(f"- {inline(text)}\n") == []


def test_code_spans_and_blocks_hold_anything_without_invisible_characters() -> None:
    assert code("a`b") == "``a`b``"
    assert code("torch==2.10.0@vllm") == "`torch==2.10.0@vllm`"  # copied, it still works
    assert block("```\n@team\r\nnext") == "````text\n```\n@team\nnext\n````"
    assert block("\x1b[1mbold\x1b[0m\u200b") == "```text\nbold<U+200B>\n```"


def test_table_cells_escape_pipes_as_gfm_asks() -> None:
    row = f"| {code_cell('a|b')} | {cell('x | y_z')} |"
    tokens = parser().parse(f"| A | B |\n| - | - |\n{row}\n")
    cells = [t for t in tokens if t.type == "inline"][2:]
    assert [c.children[0].content for c in cells if c.children] == ["a|b", "x "]
    assert hazards(f"| A | B |\n| - | - |\n{row}\n") == []


def _words(text: str) -> str:
    """What a reader sees of `text`: its words, quotes and backticks aside (a code span shows as those)."""
    return " ".join(text.replace("'", "").replace('"', "").replace("`", "").split())


@PROPERTY
@given(text=TEXT)
def test_inline_text_is_inert_and_reads_as_written(text: str) -> None:
    rendered = inline(text)
    assert "\n" not in rendered
    assert hazards(f"- {rendered}\n") == []
    tokens = parser().parse(f"- {rendered}\n")
    types = [t.type for t in tokens]
    # One list item holding one paragraph (or nothing): nothing in the text opened a block of its own.
    paragraph = ["paragraph_open", "inline", "paragraph_close"] if rendered else []
    assert types == ["bullet_list_open", "list_item_open", *paragraph, "list_item_close", "bullet_list_close"]
    children = (tokens[3].children or []) if rendered else []
    assert {c.type for c in children} <= {"text", "code_inline"}
    if not invisible(text) and "\x1b" not in text:
        seen = "".join(c.content for c in children)
        assert _words(seen) == _words(text)


@PROPERTY
@given(text=TEXT)
def test_code_spans_are_one_inert_span(text: str) -> None:
    tokens = parser().parse(f"x {code(text)}\n")
    children = [c for c in tokens[1].children or [] if c.type != "text" or c.content.strip()]
    if " ".join(text.split()) and not text.isspace():
        assert [c.type for c in children][-1:] == ["code_inline"]
    assert hazards(f"x {code(text)}\n") == []


def test_quote_keeps_markdown_but_no_html_pings_or_issue_links() -> None:
    from bot.text.markdown import quote

    text = "## Changes\r\n- fix by @bob in #42 (GH-7)\n<details>x</details>\n\n```\ncode\n```"
    assert quote(text) == (
        "> ## Changes\n> - fix by `@bob` in `#42` (`GH-7`)\n"
        "> `<details>`x`</details>`\n>\n"
        "> ```\n> code\n> ```"
    )
    assert quote("a/b#3 and C#1 stay, mail a@b.org") == "> a/b#3 and C#1 stay, mail a@b.org"
    assert quote("```\n@bob <b>\n```") == "> ```\n> @bob <b>\n> ```"  # a code block pings nobody
    assert hazards(quote("hi @bob, see #42 <img src=x>") + "\n") == []


def test_link_takes_only_http_urls_and_cannot_be_broken_out_of() -> None:
    from bot.text.markdown import link

    docs = link("Docs [x]", "https://example.org/a(b)")
    assert docs == "[Docs `[x]`](https://example.org/a%28b%29)"
    assert [t.type for t in parser().parse(docs)[1].children or []][:1] == ["link_open"]
    assert link("Bad", "javascript:alert(1)") == "Bad: `javascript:alert(1)`"
    assert link("Space", "https://example.org/a b") == "Space: `https://example.org/a b`"


def test_html_inline_is_inert_inside_an_html_element() -> None:
    from bot.text.markdown import html_inline

    shown = html_inline("v1 <b>new</b> & @team\u200b #7\nnext")
    # Inside HTML an escape is the way to show `<`: it renders as the character, not as a tag.
    assert shown == "v1 &lt;b&gt;new&lt;/b&gt; &amp; <code>@team</code>&lt;U+200B&gt; <code>#7</code> next"
    assert invisible(shown) == []
