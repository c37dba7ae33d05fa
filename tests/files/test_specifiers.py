"""Specifier bumps keep the style of the pin they edit."""

from __future__ import annotations

import pytest

from bot.files.specifiers import allowed, bump_specifier


@pytest.mark.parametrize(
    ("spec", "version", "expected"),
    [
        ("==0.5.9", "0.5.10", "==0.5.10"),
        ("== 0.5.9", "0.5.10", "== 0.5.10"),
        (">=2.9.1", "2.10.0", ">=2.10.0"),
        (">=2.9.1,<3", "2.10.0", ">=2.10.0,<3"),
        (">=2.9, <2.10", "2.10.0", ">=2.10.0, <3"),
        ("~=0.5.9", "0.5.10", "~=0.5.10"),
        ("<=4.56.0", "4.57.1", "<=4.57.1"),
        ("!=0.5.10,>=0.5", "0.5.10", ">=0.5.10"),
        ("==2.9.*", "2.10.0", "==2.10.*"),
        ("==2.9.1+cu128", "2.10.0+cu129", "==2.10.0+cu129"),
        (">=2.9.1", "2.10.0+cu129", ">=2.10.0"),
        ("", "1.0", None),
    ],
)
def test_bump_specifier_keeps_the_style(spec: str, version: str, expected: str | None) -> None:
    assert bump_specifier(spec, version) == expected


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        (["==2.1.0", "==2.1.0"], ["==2.1.0"], True),
        (["==2.1.0", "<3"], ["==2.1"], True),
        ([">=2", ">=2.1"], [">=2.1.0"], True),
        ([">=2.0,<3", ">=2"], ["<3.0,>=2"], True),
        ([">2", ">=2"], [">2"], True),
        (["<3", "<=3"], ["<3"], True),
        (["==2.1.0"], ["==2.2.0"], False),
        ([">=2"], [">=2,<3"], False),
        (["<3"], ["<=3"], False),
        (["~=2.1"], [">=2.1"], False),
    ],
)
def test_allowed_drops_clauses_the_others_imply(one: list[str], other: list[str], same: bool) -> None:
    assert (allowed(one) == allowed(other)) is same


def test_allowed_refuses_what_is_no_specifier() -> None:
    assert allowed(["not a specifier"]) is None
