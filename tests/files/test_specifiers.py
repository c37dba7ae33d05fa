"""Specifier bumps keep the style of the pin they edit."""

from __future__ import annotations

import pytest

from bot.files.specifiers import bump_specifier


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
