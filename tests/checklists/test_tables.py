"""Every table of Affected Files is read as listed files: other tiers, rows before any tier, patterns."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.files.config import parse_config
from checklists.document import parse_checklist
from checklists.validate import validate_checklists

# The shape of AReaL's vllm and transformers checklists: a fourth tier of files elsewhere in the
# tree, a row listing files by glob, and a row of prose naming directories.
CHECKLIST = """\
---
package: vllm
github: vllm-project/vllm
branch_template: v${VERSION}
upstream_paths:
  - vllm/lora/
---

## Affected Files

| File | Imports / Usage |
| ---- | --------------- |
| `tools/untiered.py` | `vllm.logger.init_logger` |

### Primary (engine layer — most likely to break)

| File | Imports / Usage |
| ---- | --------------- |
| `areal/engine/worker.py` | `vllm.lora.request.LoRARequest` |

### Secondary (model / infra layer)

| File | Imports / Usage |
| ---- | --------------- |
| `areal/models/*/args.py` | `vllm.config` |

### Tertiary (tests, config)

| File | Imports / Usage |
| ---- | --------------- |
| 30+ files under `tests/` and `examples/` | standard load patterns only |
| `tests/gone_*.py` | removed tests |

### External (awex — separate subsystem)

| File | Imports / Usage |
| ---- | --------------- |
| `awex/plugin.py` | `vllm.distributed.parallel_state` |
| `awex/engine/vllm.py` | VLLMEngine wrapper |
| `awex/server.py` | `vllm.entrypoints.openai.api_server.run_server` |

______________________________________________________________________

## API Usage Catalog

### 1. `vllm.lora.request.LoRARequest`

**Check:** fields

## Version-Guarded Code

- none
"""
PATH = ".agents/skills/upgrade-deps/checklists/vllm.md"
FILES = {
    "tools/untiered.py": "from vllm.logger import init_logger\n",
    "areal/engine/worker.py": "from vllm.lora.request import LoRARequest\n",
    "areal/models/qwen/model/args.py": "from vllm.config import ModelConfig\n",
    "areal/models/llama/args.py": "import vllm.config\n",
    "tests/test_engine.py": "import vllm\n",
    "examples/run.py": "from vllm import LLM\n",
    "awex/plugin.py": "from vllm.distributed import parallel_state\n",
    "areal/infra/new.py": "import vllm\n",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for relative, text in {**FILES, PATH: CHECKLIST}.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    return tmp_path


def test_every_table_is_parsed_with_its_tier() -> None:
    checklist = parse_checklist(CHECKLIST, display=PATH)
    assert [(r.tier, r.kind, r.file, r.patterns) for r in checklist.rows] == [
        ("", "file", "tools/untiered.py", ()),
        ("primary", "file", "areal/engine/worker.py", ()),
        ("secondary", "pattern", "areal/models/*/args.py", ("areal/models/*/args.py",)),
        ("tertiary", "pattern", "30+ files under `tests/` and `examples/`", ("tests/", "examples/")),
        ("tertiary", "pattern", "tests/gone_*.py", ("tests/gone_*.py",)),
        ("external", "file", "awex/plugin.py", ()),
        ("external", "file", "awex/engine/vllm.py", ()),
        ("external", "file", "awex/server.py", ()),
    ]
    assert checklist.problems == ()  # another tier is no structural problem


def test_files_of_other_tiers_and_patterns_are_listed(repo: Path) -> None:
    (report,) = validate_checklists(repo, parse_config({}), ["vllm"], fix=False)
    # Covered by a pattern row (a glob, or a directory named in prose) is listed, not missing.
    assert report.missing == ("areal/infra/new.py",)
    # Files of the External tier are listed files like any other: gone ones are stale; a pattern
    # that no longer matches a file is stale too.
    assert report.stale == ("awex/engine/vllm.py", "awex/server.py", "tests/gone_*.py")
    assert report.changed == ()


def test_fix_keeps_unknown_tiers_as_they_are(repo: Path) -> None:
    (report,) = validate_checklists(repo, parse_config({}), ["vllm"], fix=True)
    assert report.fixed and report.problems == ()
    text = (repo / PATH).read_text(encoding="utf-8")
    expected = (
        CHECKLIST.replace("| `awex/engine/vllm.py` | VLLMEngine wrapper |\n", "")
        .replace("| `awex/server.py` | `vllm.entrypoints.openai.api_server.run_server` |\n", "")
        .replace("| `tests/gone_*.py` | removed tests |\n", "")
        .replace(
            "| `areal/models/*/args.py` | `vllm.config` |\n",
            "| `areal/models/*/args.py` | `vllm.config` |\n| `areal/infra/new.py` | `vllm` |\n",
        )
    )
    assert text == expected
    (again,) = validate_checklists(repo, parse_config({}), ["vllm"], fix=False)
    assert again.clean


def test_rows_documenting_use_without_an_import_are_not_stale(repo: Path) -> None:
    (repo / "areal/tools").mkdir()
    (repo / "areal/tools/validation.py").write_text('PACKAGES = {"vllm": "vllm"}\n', encoding="utf-8")
    # In a tier every version reads, so the row is judged by its usage, not by its table.
    text = CHECKLIST.replace(
        "| `tests/gone_*.py` |",
        '| `areal/tools/validation.py` | `"vllm"` in `CRITICAL_PACKAGES` (metadata only) |\n'
        "| `tests/gone_*.py` |",
    )
    (repo / PATH).write_text(text, encoding="utf-8")
    (report,) = validate_checklists(repo, parse_config({}), ["vllm"], fix=False)
    assert "areal/tools/validation.py" not in report.stale


def test_catalog_headings_naming_several_symbols_cover_them(tmp_path: Path) -> None:
    text = CHECKLIST.replace(
        "### 1. `vllm.lora.request.LoRARequest`",
        "### 1. `vllm.lora.request.LoRARequest` and `.make_request`\n\n**Check:** x\n\n"
        "### 2. `vllm.lora.lora_model.LoRAModel.from_lora_tensors`",
    )
    files = {
        **FILES,
        "areal/engine/worker.py": (
            "from vllm.lora.request import LoRARequest, make_request\n"
            "from vllm.lora.lora_model import LoRAModel\n"
            "from vllm.lora.peft_helper import PEFTHelper\n"
        ),
    }
    for relative, body in {**files, PATH: text}.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(body, encoding="utf-8")
    (report,) = validate_checklists(tmp_path, parse_config({}), ["vllm"], fix=False)
    assert report.new_entries == ("vllm.lora.peft_helper.PEFTHelper",)
