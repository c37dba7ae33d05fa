"""The command line itself: --version, help for every option, and the request options of `run`."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bot import cli
from tests.support.golden import assert_golden
from tests.support.repos import git

GOLDEN = Path(__file__).parent / "golden"


def _parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Every parser under `parser` (itself included), by its prog."""
    found = {parser.prog: parser}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found |= _parsers(child)
    return found


def test_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out == "upgrade-deps 0.1.0\n"


def test_every_option_of_every_command_has_help() -> None:
    parsers = _parsers(cli.build_parser())
    assert sorted(parsers) == [
        "upgrade-deps", "upgrade-deps app-manifest", "upgrade-deps audit", "upgrade-deps checklists",
        "upgrade-deps checklists validate", "upgrade-deps db", "upgrade-deps db migrate", "upgrade-deps fix",
        "upgrade-deps run",
        "upgrade-deps serve", "upgrade-deps worker",
    ]  # fmt: skip
    for prog, parser in parsers.items():
        assert parser.description, prog
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            assert action.help, f"{prog} {action.option_strings or action.dest}: no help text"


def test_run_help_lists_every_option(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    text = capsys.readouterr().out
    for option in ("--repo", "--config", "--no-commit", "--uv-timeout", "--sandbox", "--format",
                   "--allow-downgrade", "--image-tag"):  # fmt: skip
        assert f"  {option}" in text, option
    assert_golden(text, GOLDEN / "run-help.txt")


def test_top_level_help_is_written_for_users(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    assert "Upgrade the pinned dependencies of a uv-managed Python repository" in text
    assert "imported only when used" not in text and "lazily" not in text


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["run", "--allow-downgrade", "torch==2.9.0"], ["torch==2.9.0", "--allow-downgrade"]),
        (["run", "sglang==0.5.11", "--image-tag", "v0.5.11-cu130-runtime", "--no-commit"],
         ["sglang==0.5.11", "--image-tag", "v0.5.11-cu130-runtime"]),
        (["run", "--image-tag=v1", "sglang==0.5.11", "--allow-downgrade"],
         ["sglang==0.5.11", "--allow-downgrade", "--image-tag", "v1"]),
        (["run", "--", "--allow-downgrade", "x==1"], ["--allow-downgrade", "x==1"]),
    ],
)  # fmt: skip
def test_request_options_reach_the_request_words(
    argv: list[str], words: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `run` handed to a recorder instead of the pipeline: what it would have been given.
    monkeypatch.setitem(cli.COMMANDS, "run", f"{__name__}:_record")
    _GIVEN.clear()
    assert cli.main(argv) == 0
    assert _GIVEN[0].args == words


@pytest.mark.parametrize("command", [["audit", "peft==0.17.0..0.18.1"], ["checklists", "validate"]])
def test_audit_and_checklists_default_to_the_top_level_of_the_work_tree(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(tmp_path, "init", "-q")  # no commit needed: these only read the files
    (tmp_path / "src" / "app").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "src" / "app")
    monkeypatch.setitem(cli.COMMANDS, command[0], f"{__name__}:_record")
    _GIVEN.clear()
    assert cli.main(command) == 0
    assert _GIVEN[0].repo == tmp_path.resolve()


def test_audit_outside_any_work_tree_defaults_to_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # pytest's temporary directories are in no work tree
    monkeypatch.setitem(cli.COMMANDS, "audit", f"{__name__}:_record")
    _GIVEN.clear()
    assert cli.main(["audit", "peft==0.17.0..0.18.1"]) == 0
    assert _GIVEN[0].repo == tmp_path


_GIVEN: list[argparse.Namespace] = []


def _record(args: argparse.Namespace) -> int:
    _GIVEN.append(args)
    return 0
