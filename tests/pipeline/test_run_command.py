"""`upgrade-deps run` as a user types it: where it runs by default, and its JSON result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from bot.errors import OUTCOMES
from tests.support.repos import copy_example, dual_repo, git

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "run-result.schema.json"


def run_in(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", *args], cwd=cwd, capture_output=True, text=True,
        env={**os.environ}, timeout=120,
    )  # fmt: skip


def test_run_from_a_subdirectory_upgrades_the_whole_repository(tmp_path: Path) -> None:
    repo = dual_repo(tmp_path)
    (repo / "src" / "app").mkdir(parents=True)
    done = run_in(repo / "src" / "app", "transformers==4.57.1")
    assert done.returncode == 0, done.stdout + done.stderr
    for manifest in ("pyproject.toml", "pyproject.vllm.toml"):
        assert '"transformers==4.57.1",' in (repo / manifest).read_text()
    assert (repo / "upgrade-summary.md").is_file()
    assert not (repo / "src" / "app" / "upgrade-summary.md").exists()
    assert git(repo, "log", "--format=%s", "-n", "2").splitlines() == [
        "Re-lock default, vllm after the upgrade",
        "Pin transformers 4.57.1",
    ]


def _schema() -> dict[str, object]:
    schema: dict[str, object] = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def _validated(stdout: str) -> dict[str, object]:
    document: dict[str, object] = json.loads(stdout)  # stdout holds the JSON object and nothing else
    jsonschema.Draft202012Validator(_schema()).validate(document)
    properties = _schema()["properties"]
    assert isinstance(properties, dict)
    # Every key printed is documented, and every documented key is printed.
    assert sorted(document) == sorted(properties)
    return document


def test_json_result_of_a_landed_upgrade_follows_the_schema(project_root: Path, tmp_path: Path) -> None:
    repo = copy_example(project_root, tmp_path / "example")
    # Without fixes: the one breaking call site stays, so findings are printed.
    done = run_in(repo, "--format", "json", "--no-fix", "sglang==0.5.10", "transformers==4.57.1")
    assert done.returncode == 3, done.stderr
    result = _validated(done.stdout)
    assert (result["outcome"], result["exit_code"]) == ("breaking", 3)
    changes = result["changes"]
    assert isinstance(changes, dict) and list(changes) == ["sglang", "vllm"]
    sglang = {c["package"]: (c["old"], c["new"], c["requested"]) for c in changes["sglang"]}
    vllm = {c["package"]: (c["old"], c["new"], c["requested"]) for c in changes["vllm"]}
    assert sglang["sglang"] == (["0.5.9"], ["0.5.10"], True)
    assert sglang["numpy"] == vllm["numpy"] == (["2.2.6"], ["2.3.5"], False)
    assert "sglang" not in vllm and vllm["transformers"] == (["4.56.0"], ["4.57.1"], True)
    findings = result["findings"]
    assert isinstance(findings, list)
    breaking = {"file": "src/app/engine.py", "line": 5, "kind": "keyword-removed"}.items()
    assert [f for f in findings if breaking <= f.items()]
    commits = result["commits"]
    assert isinstance(commits, list)
    assert [c["subject"] for c in commits] == [
        "Update API checklists of transformers to the code's real imports",
        "Pin sglang 0.5.10, transformers 4.57.1",
        "Re-lock sglang, vllm after the upgrade",
    ]
    assert [c["sha"] for c in commits] == git(repo, "log", "--format=%H", "-n", "3").split()[::-1]
    assert result["steps"] == {
        name: {"status": "done", "reason": ""}
        for name in ("checklists", "pins", "lock", "notes", "containers", "audit", "verify")
    }
    assert result["summary"] == "upgrade-summary.md" and (repo / "upgrade-summary.md").is_file()


@pytest.mark.parametrize(
    ("words", "outcome"),
    [
        (["transformers==4.56.0"], "nothing"),
        (["torch==2.10.0"], "refused"),
        (["sglang==0.9.9"], "not-landed"),
    ],
)
def test_json_result_of_every_other_ending_follows_the_schema(
    tmp_path: Path, words: list[str], outcome: str
) -> None:
    repo = dual_repo(tmp_path)
    done = run_in(repo, "--format", "json", *words)
    result = _validated(done.stdout)
    assert result["outcome"] == outcome
    assert result["exit_code"] == done.returncode == OUTCOMES[outcome].exit_code
    if outcome == "not-landed":
        unresolved = result["unresolved"]
        assert isinstance(unresolved, list) and unresolved and unresolved[0]["blocking"] is True


def test_the_schema_lists_every_outcome() -> None:
    outcome = _schema()["properties"]["outcome"]  # type: ignore[index]
    assert sorted(outcome["enum"]) == sorted(OUTCOMES)
    codes = _schema()["properties"]["exit_code"]["enum"]  # type: ignore[index]
    assert sorted(codes) == sorted({o.exit_code for o in OUTCOMES.values()})
