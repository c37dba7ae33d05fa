"""Command words parsed once at the edge, stored in the job spec and the ledger as typed values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.errors import JobSpecError
from bot.model import Request
from bot.pipeline.request import parse_request
from bot.service import jobspec
from bot.service.commands import Help, Malformed, Revert, Upgrade, parse_command
from bot.service.jobs import JobStore
from bot.service.jobspec import Command, JobTarget

TARGET = JobTarget(installation=1, repo="o/r", clone_url="https://github.com/o/r.git", default_branch="main")


def command(words: tuple[str, ...]) -> Command:
    asked = parse_command(words)
    return Command(TARGET, number=3, is_pull=False, comment_id=9, author="someone", asked=asked, title="Up")


def test_each_command_is_its_own_type() -> None:
    assert parse_command(("help",)) == Help() and parse_command(("help", "me")) == Help()
    assert parse_command(("revert",)) == Revert()
    asked = parse_command(("sglang==0.5.10", "torch==2.10.0@vllm", "--image-tag", "v1"))
    assert isinstance(asked, Upgrade)
    assert asked.request == parse_request(["sglang==0.5.10", "torch==2.10.0@vllm", "--image-tag", "v1"])
    assert asked.branch == "upgrade-deps/sglang-0.5.10-torch-2.10.0-vllm-v1"
    malformed = parse_command(("sglang=0.5.10",))
    assert isinstance(malformed, Malformed) and "expected pkg==version" in malformed.problem
    assert isinstance(parse_command(()), Malformed)


@pytest.mark.parametrize("words", [("help",), ("revert",), ("a==1", "--allow-downgrade"), ("a=1",)])
def test_every_kind_round_trips_through_the_stored_spec(words: tuple[str, ...]) -> None:
    spec = command(words)
    stored = jobspec.dumps(spec)
    assert json.loads(stored)["asked"]["kind"] in ("help", "revert", "upgrade", "malformed")
    assert jobspec.loads("command", stored) == spec


def test_a_stored_command_of_no_known_kind_or_shape_is_our_error() -> None:
    stored = json.loads(jobspec.dumps(command(("a==1",))))
    for asked in ({"kind": "rm"}, {"kind": "upgrade"}, {"kind": "upgrade", "request": [], "branch": "b"},
                  ["a==1"], {"kind": "malformed", "problem": 3}):  # fmt: skip
        with pytest.raises(JobSpecError, match="stored command job spec"):
            jobspec.loads("command", json.dumps({**stored, "asked": asked}))


def test_the_ledger_keeps_the_parsed_request_and_reads_words_stored_before(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    try:
        request = parse_request(["Torch==2.10", "--image-tag", "v 1"])
        store.ledger(1).set_request(request)
        assert store.ledger(1).request() == request and store.ledger(2).request() is None
        # A ledger written when requests were stored as the command's words.
        store.ledger(3)._put("request", ["Torch==2.10", "--image-tag", "v 1"])
        assert store.ledger(3).request() == request
        assert isinstance(store.ledger(3).request(), Request)
    finally:
        store.close()
