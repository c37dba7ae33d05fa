"""Constant evaluation of default values: literals, arithmetic, names, and what it refuses."""

from __future__ import annotations

import pytest

from bot.audit.constants import evaluate

NAMES = {"KB": "1024", "MB": "KB * KB", "LOOP": "LOOP", "FLAGS": "('a', -1)"}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2 ** 16", "65536"),
        ("MB", "1048576"),
        ("FLAGS", "('a', -1)"),
        ("not False", "True"),
        ("[1, 2] + [3]", "[1, 2, 3]"),
        ("None", "None"),
        ("LOOP", None),  # self-reference: gives up, never loops
        ("UNKNOWN", None),
        ("2 ** 1000000", None),  # refused, not computed
        ("f(1)", None),
        ("1 / 0", None),
    ],
)
def test_evaluate(text: str, value: str | None) -> None:
    assert evaluate(text, NAMES.get) == value
