"""Fuzzed commands: split as shlex would, in linear time; every answer bounded and neutralised."""

from __future__ import annotations

import shlex

from hypothesis import HealthCheck, given, settings

from bot.errors import BadArgumentsError
from bot.pipeline.request import MAX_WORD, USAGE, parse_request
from bot.pipeline.words import split_words
from bot.text.render import render
from handlers.issue_comment import command_words
from tests.conftest import examples
from tests.fuzz.mutations import BODIES, COMMAND_LINES, TEXT
from tests.support.markdown_safety import hazards

FUZZ = settings(max_examples=examples(0.6), suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.data_too_large])  # fmt: skip
MARKER = "<!-- upgrade-deps:reply 1 -->"
SHLEX_AT_MOST = 600  # shlex itself is slow (and quadratic): compare with it on lines it reads quickly


def _shlex(line: str) -> tuple[str, ...] | None:
    try:
        return tuple(shlex.split(line))
    except ValueError:
        return None


@FUZZ
@given(line=COMMAND_LINES | TEXT)
def test_words_are_split_as_shlex_splits_them(line: str) -> None:
    words = split_words(line)
    if len(line) <= SHLEX_AT_MOST:
        assert words == _shlex(line)
    assert words is None or sum(map(len, words)) <= len(line)


@FUZZ
@given(body=BODIES)
def test_every_command_gets_a_bounded_neutral_answer(body: str) -> None:
    words = command_words(body)
    if words is None or words[:1] in (("help",), ("revert",)):
        return
    try:
        request = parse_request(words)
    except BadArgumentsError as exc:
        reply = render("github-reply-malformed.md.j2", marker=MARKER, problem=str(exc), usage=USAGE)
        text = reply.removeprefix(MARKER)
        assert hazards(text) == [], reply  # no one is pinged, no raw HTML, nothing hidden
        assert len(reply) < 5 * MAX_WORD + 600, reply  # never a whole over-long word, even escaped
        return
    assert all(len(word) <= MAX_WORD for word in words) and request.items
