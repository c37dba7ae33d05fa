"""Intake costs: parsing a command before and after the one-pass splitter; checking a 28 KB delivery.

`.venv/bin/python -m benchmarks.intake` prints, for one comment that is one long word, the time shlex
(the splitter before) and bot.pipeline.words take, and the cost per delivery of decoding the real
pull_request.opened payload and of checking the fields the handlers read.
"""

from __future__ import annotations

import shlex
import time
import timeit
from collections.abc import Callable

import orjson

from bot.pipeline.words import split_words
from handlers.payloads import PullRequest, parse
from tests.support.webhooks import FIXTURES


def best(function: Callable[[], object], number: int) -> float:
    """The fastest of five runs, in seconds per call."""
    return min(timeit.repeat(function, number=number, repeat=5)) / number


def once(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    print("one word of N characters after /upgrade-deps: shlex.split vs bot.pipeline.words.split_words")
    for size in (65_536, 100_000, 200_000, 400_000):
        line = " " + "a" * size
        before = once(lambda line=line: shlex.split(line))  # type: ignore[misc]
        after = once(lambda line=line: split_words(line))  # type: ignore[misc]
        print(f"  {size:>7,}: shlex {before:7.3f} s   split_words {after * 1e3:7.3f} ms")
    body = (FIXTURES / "pull_request.opened.json").read_bytes()
    data = orjson.loads(body)
    decode, check = best(lambda: orjson.loads(body), 5000), best(lambda: parse(data, PullRequest), 5000)
    print(
        f"pull_request.opened ({len(body):,} bytes): orjson.loads {decode * 1e6:.1f} us,"
        f" field checks {check * 1e6:.1f} us per delivery"
    )


if __name__ == "__main__":
    main()
