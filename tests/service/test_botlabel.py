"""Labelling real Renovate and Dependabot pull requests from their text (tests/fixtures/bot_prs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.service.botlabel import LabelledUpdate, label

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bot_prs"
CASES = sorted(FIXTURES.glob("*.json"))


@pytest.mark.parametrize("path", CASES, ids=[case.stem for case in CASES])
def test_label_matches_what_a_person_reads(path: Path) -> None:
    pr = json.loads(path.read_text())
    got = label(pr["title"], pr["body"] or "")
    assert [(u.package, u.new) for u in got] == [(e["package"], e["to"]) for e in pr["expected_updates"]]
    assert all(u.old in (None, e["from"]) for u, e in zip(got, pr["expected_updates"], strict=True))


def test_every_recorded_pull_request_is_a_case() -> None:
    # Without its files the test above would be skipped for an empty parameter set, not failed.
    assert len(CASES) == 20, FIXTURES


def test_title_only() -> None:
    assert label("Update dependency tomli to v2.4.0", "") == (LabelledUpdate("tomli", None, "2.4.0"),)
    assert label("Bump protobuf from 3.20.1 to 3.20.2", "") == (
        LabelledUpdate("protobuf", "3.20.1", "3.20.2"),
    )
    assert label("Sync `uv.lock`", "") == ()
