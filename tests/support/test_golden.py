"""The golden-file helper: equal passes, any difference or a missing file fails, the switch rewrites."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.golden import UPDATE, assert_golden


@pytest.fixture(autouse=True)
def compare(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UPDATE, raising=False)  # a developer's rewriting run must not pass these vacuously


def test_the_same_text_passes(tmp_path: Path) -> None:
    (tmp_path / "g.md").write_bytes("a\nü\n".encode())
    assert_golden("a\nü\n", tmp_path / "g.md")


@pytest.mark.parametrize("golden", [b"a\nb\n", b"a\r\nb\r\n", b"a\nb"])
def test_any_difference_fails_with_a_diff(tmp_path: Path, golden: bytes) -> None:
    (tmp_path / "g.md").write_bytes(golden)
    with pytest.raises(AssertionError, match=f"differs from g.md \\({UPDATE}=1 rewrites it\\)") as caught:
        assert_golden("a\nc\n" if golden == b"a\nb\n" else "a\nb\n", tmp_path / "g.md")
    assert f"--- {tmp_path / 'g.md'} (golden)\n+++ rendered\n" in str(caught.value)


def test_a_missing_golden_file_fails(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="no golden file"):
        assert_golden("text", tmp_path / "none.md")


def test_the_switch_rewrites_and_creates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(UPDATE, "1")
    (tmp_path / "g.md").write_text("old\n")
    assert_golden("new\r\n", tmp_path / "g.md")
    assert_golden("made\n", tmp_path / "golden" / "new.md")
    assert (tmp_path / "g.md").read_bytes() == b"new\r\n"
    assert (tmp_path / "golden" / "new.md").read_bytes() == b"made\n"
    monkeypatch.delenv(UPDATE)
    assert_golden("new\r\n", tmp_path / "g.md")
