"""Command words: shlex's quoting in one pass; over-long words refused by their length first."""

from __future__ import annotations

import pytest

from bot.errors import BadArgumentsError
from bot.pipeline.request import MAX_WORD, MAX_WORDS, parse_request
from bot.pipeline.words import split_words
from handlers.issue_comment import command_words


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("a==1  b==2\t", ("a==1", "b==2")),
        ('\'a==1 b\' "c\\"d" e\\ f', ("a==1 b", 'c"d', "e f")),
        ("\"x\\y\" '' z", ("x\\y", "", "z")),
        ("a'b'\"c\"d", ("abcd",)),
        ("'open", None),
        ('"open', None),
        ("end\\", None),
    ],
)
def test_split_words_reads_quotes_as_shlex(line: str, words: tuple[str, ...] | None) -> None:
    assert split_words(line) == words


def test_one_very_long_word_is_one_slice() -> None:
    # shlex grew this word one character at a time (2.8 s at 400 KB); a plain run is one regex match.
    line = "a" * 400_000
    words = split_words(line)
    assert words is not None and len(words) == 1 and words[0] == line


def test_over_long_words_are_refused_by_length_before_parsing() -> None:
    valid_but_long = "a" * MAX_WORD + "==1"  # a fine PEP 508 name and version, only too long
    with pytest.raises(BadArgumentsError, match=rf"word 1 \(.*\) is {MAX_WORD + 3} characters long; at most"):
        parse_request([valid_but_long])
    with pytest.raises(BadArgumentsError, match=r"word 2 .*characters long"):
        parse_request(["a==1", "--" + "x" * MAX_WORD])  # not reported as an unknown option, echoed whole
    with pytest.raises(BadArgumentsError, match=f"at most {MAX_WORDS}"):
        parse_request(["a==1"] * (MAX_WORDS + 1))
    assert parse_request(["a" * (MAX_WORD - 3) + "==1"]).items[0].version == "1"


def test_a_whole_comment_of_one_word_is_bounded() -> None:
    words = command_words("/upgrade-deps " + "x" * 65_000)
    assert words is not None and len(words[0]) == 65_000
    with pytest.raises(BadArgumentsError, match="65000 characters long"):
        parse_request(words)
