"""The resolver's explanation as one sentence: whole specifiers, never one cut at a comma or a full stop."""

from __future__ import annotations

import pytest

from bot.pipeline.conflicts import explain

# uv 0.13.9's own words for a range that our exact pin excludes (from a lock of the test wheels).
UV_RANGE = """\
error: No solution found when resolving dependencies
  cause: Because all versions of sglang depend on transformers>=4.57,<5 and your project depends on \
sglang==0.5.10, we can conclude that your project depends on transformers>=4.57,<5.
         And because your project depends on transformers==4.56.0, we can conclude that your project's \
requirements are unsatisfiable.
"""


def test_a_range_is_cited_whole() -> None:
    assert explain(UV_RANGE, roots=()) == "every version of sglang requires transformers>=4.57,<5"


@pytest.mark.parametrize(
    ("output", "sentence"),
    [
        ("we can conclude that sglang==0.5.10 depends on transformers>=4.57.\n", "transformers>=4.57"),
        ("Because sglang==0.5.10 depends on transformers>=4.57. And because", "transformers>=4.57"),
        ("Because foo==1.0 depends on bar>=2.0.0: done", "bar>=2.0.0"),
        ("Because foo==1.0 depends on bar==2.*.", "bar==2.*"),
        ("Because foo==1.0 depends on bar==2.9.1+cu129.", "bar==2.9.1+cu129"),
        ("Because foo[gpu]>=1.0.post1 depends on bar!=2.0.", "foo[gpu]>=1.0.post1 requires bar!=2.0"),
    ],
)
def test_sentence_punctuation_is_not_part_of_a_specifier(output: str, sentence: str) -> None:
    text = explain(output, roots=())
    assert sentence in text
    assert not any(word.endswith(".") for word in text.split()), text
