"""The import contracts in pyproject.toml catch the imports they forbid, each under its rule's name."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "checklists")
# One wrong import per contract, each breaking that contract alone: (file, line added, contract name).
WRONG = (
    (
        "bot/text/markdown.py",
        "import bot.files.specifiers",
        "Layers: each package imports only those below it",
    ),
    ("bot/service/publish.py", "import tomllib", "The service never reads TOML, manifests or locks itself"),
    ("bot/service/jobspec.py", "import bot.service.job_runner", "No import cycles between modules"),
)

# The layers contract, rule by rule: (file, lines added, layer, the layer above it it may not import).
# TYPE_CHECKING imports count.
LAYERS = (
    ("bot/pipeline/summary.py", "import bot.service.jobspec", "bot.pipeline", "bot.service"),
    ("bot/pipeline/request.py", "import handlers.payloads", "bot.pipeline", "handlers"),
    ("bot/files/lockfile.py", "import bot.pipeline.request", "bot.files", "bot.pipeline"),
    ("bot/tools/proc.py", "import bot.pipeline.verify", "bot.tools", "bot.pipeline"),
    ("bot/audit/compare.py", "import bot.pipeline.policy", "bot.audit", "bot.pipeline"),
    ("bot/containers/registry.py", "import bot.service.github", "bot.containers", "bot.service"),
    ("checklists/document.py", "import bot.pipeline.impact", "checklists", "bot.pipeline"),
    ("checklists/document.py", "import bot.audit.usage", "checklists", "bot.audit"),
    ("bot/model.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import bot.audit.runner",
     "bot.model", "bot.audit"),
    ("bot/errors.py", "import bot.text.render", "bot.errors", "bot.text"),
)  # fmt: skip


def _add(tree: Path, path: str, lines: str) -> None:
    module = tree / path
    module.write_text(module.read_text() + f"\n{lines}  # noqa\n")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports on the copy in `tree`, which shadows the installed packages."""
    command = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(command), "--no-cache", str(tree / "pyproject.toml")],
        cwd=tree, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_every_contract_is_named_by_a_wrong_import_here() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    names = {contract["name"] for contract in config["tool"]["importlinter"]["contracts"]}
    assert names == {name for _, _, name in WRONG}


def test_the_tree_keeps_every_contract(tree: Path) -> None:
    clean = _lint(tree)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert f"Contracts: {len(WRONG)} kept, 0 broken." in clean.stdout


@pytest.mark.parametrize(("path", "line", "name"), WRONG, ids=[name for _, _, name in WRONG])
def test_a_wrong_import_breaks_its_rule_by_name(tree: Path, path: str, line: str, name: str) -> None:
    _add(tree, path, line)
    broken = _lint(tree)
    assert broken.returncode != 0
    assert f"{name} BROKEN" in broken.stdout, broken.stdout
    assert f"Contracts: {len(WRONG) - 1} kept, 1 broken." in broken.stdout, broken.stdout
    assert path.rsplit("/", 1)[-1].removesuffix(".py") in broken.stdout.split("Broken contracts")[1]


@pytest.mark.parametrize(
    ("path", "lines", "layer", "above"), LAYERS, ids=[f"{low}->{high}" for _, _, low, high in LAYERS]
)
def test_a_layer_importing_one_above_it_is_reported(
    tree: Path, path: str, lines: str, layer: str, above: str
) -> None:
    _add(tree, path, lines)
    broken = _lint(tree)
    assert broken.returncode != 0
    assert f"{WRONG[0][2]} BROKEN" in broken.stdout, broken.stdout
    assert f"{layer} is not allowed to import {above}:" in broken.stdout, broken.stdout
