"""Checklist model and step 0.5: parse, structure problems, line-preserving edits, discovery, fix, CLI."""

from __future__ import annotations

import json
from argparse import Namespace
from pathlib import Path

import pytest

from bot.files.config import parse_config
from bot.model import ChecklistProblem
from checklists.checklists_command import main
from checklists.document import parse_checklist
from checklists.edit import apply_edits
from checklists.report import render_markdown
from checklists.validate import new_checklist, validate_checklists
from tests.support.golden import assert_golden

GOLDEN = Path(__file__).parent / "golden"
CHECKLIST = """\
---
package: peft
github: huggingface/peft
branch_template: "v${VERSION}"
upstream_paths:
  - src/peft/tuners/lora/config.py
---

# peft

## Affected Files

### Primary (most likely to break)

| File | Imports / Usage |
| ---- | --------------- |
| `areal/engine/lora.py` | `LoraConfig` |
| `areal/engine/gone.py` | `get_peft_model` |

### Secondary

| File | Imports / Usage |
| ---- | --------------- |
| `areal/api/weights.py` | HTTP-only: weight key format `base_model.model.*` |

### Tertiary (tests, infra)

| File | Imports / Usage |
| ---- | --------------- |

## API Usage Catalog

### 1. `peft.LoraConfig`

**Source:** `src/peft/tuners/lora/config.py`

Called in `areal/engine/lora.py:4`:

```python
LoraConfig(r=8)
### not a heading inside a fence
```

**Check:** renamed params

### 3. `peft.get_peft_model`

**Check:** signature

## Version-Guarded Code (if any)

- none
- [areal/engine/lora.py:3] peft < 0.12 fallback, remove at 0.12
"""
FILES = {
    "areal/engine/lora.py": (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from peft import LoraConfig\n"
        "def build():\n"
        "    import peft.tuners as tuners\n"
        "    return tuners\n"
    ),
    "areal/api/weights.py": 'KEY = "base_model.model.layers"  # from peft import nothing\n',
    "areal/engine/new_engine.py": "def f():\n    from peft import PeftModel\n    return PeftModel\n",
    "areal/utils/helper.py": "import peft\n",
    "tests/test_lora.py": "from peft import TaskType, get_peft_model\n",
    "areal/strings_only.py": 's = "import peft"\n# from peft import LoraConfig\n',
}
CONFIG = parse_config({"checklists": {"primary": ["areal/engine/"], "tertiary": ["tests/"]}})
PATH = ".agents/skills/upgrade-deps/checklists/peft.md"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for relative, text in {**FILES, PATH: CHECKLIST}.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    return tmp_path


def test_parse_reads_front_matter_tiers_and_catalog() -> None:
    checklist = parse_checklist(CHECKLIST, display=PATH)
    assert checklist.package == "peft"
    assert [(r.tier, r.file) for r in checklist.rows] == [
        ("primary", "areal/engine/lora.py"),
        ("primary", "areal/engine/gone.py"),
        ("secondary", "areal/api/weights.py"),
    ]
    assert [(e.number, e.symbol, e.source) for e in checklist.entries] == [
        (1, "peft.LoraConfig", "src/peft/tuners/lora/config.py"),
        (3, "peft.get_peft_model", None),
    ]
    assert checklist.entries[0].call_sites == (("areal/engine/lora.py", 4),)
    assert [(g.file, g.line, g.text) for g in checklist.guards] == [
        ("areal/engine/lora.py", 3, "peft < 0.12 fallback, remove at 0.12")
    ]
    assert checklist.problems == (ChecklistProblem(PATH, 46, "catalog entry numbered 3, expected 2"),)


def test_structural_problems_name_file_and_line() -> None:
    broken = (
        "---\npackage: peft\n---\n\n## Affected Files\n\n### Primary\n\n"
        "## API Usage Catalog\n\n### `no number`\n"
    )
    assert tuple(map(str, parse_checklist(broken, display="c.md").problems)) == (
        "c.md:3: front matter lacks the key 'github'",
        "c.md:3: front matter lacks the key 'branch_template'",
        "c.md:3: front matter lacks the key 'upstream_paths'",
        "c.md:11: catalog heading is not numbered ('### N. `symbol`')",
        "c.md:11: missing section '## Version-Guarded Code'",
        "c.md:5: 'Affected Files' lacks the '### Secondary' table",
        "c.md:5: 'Affected Files' lacks the '### Tertiary' table",
    )
    assert str(parse_checklist("# no front matter\n", display="d.md").problems[0]) == (
        "d.md:1: no YAML front matter (the file must start with '---')"
    )
    assert str(parse_checklist("---\npackage: [\n---\n", display="e.md").problems[0]).startswith(
        "e.md:3: front matter is not valid YAML"
    )


def test_render_without_edits_is_byte_identical() -> None:
    checklist = parse_checklist(CHECKLIST.replace("### 3.", "### 2."), display=PATH)
    assert apply_edits(checklist) == checklist.text()
    crlf = CHECKLIST.replace("\n", "\r\n").replace("### 3.", "### 2.")
    assert apply_edits(parse_checklist(crlf, display=PATH)) == crlf


def test_validate_reports_missing_stale_changed(repo: Path) -> None:
    (report,) = validate_checklists(repo, CONFIG, ["peft"], fix=False)
    assert report.missing == ("areal/engine/new_engine.py", "areal/utils/helper.py", "tests/test_lora.py")
    assert report.stale == ("areal/engine/gone.py",)  # weights.py is HTTP-only, not stale
    assert report.changed == ("areal/engine/lora.py",)
    assert report.undocumented == {"areal/engine/lora.py": ("peft.tuners",)}
    assert report.added == {"primary": 1, "secondary": 1, "tertiary": 1}
    assert report.new_entries == ("peft.PeftModel", "peft.TaskType")
    assert not report.fixed
    assert (repo / PATH).read_text(encoding="utf-8") == CHECKLIST  # untouched without fix


def test_fix_updates_in_place(repo: Path) -> None:
    (report,) = validate_checklists(repo, CONFIG, ["peft"], fix=True)
    assert report.fixed and report.problems == ()
    assert_golden((repo / PATH).read_text(encoding="utf-8"), GOLDEN / "peft-fixed.md")
    (again,) = validate_checklists(repo, CONFIG, ["peft"], fix=False)
    assert again.clean


def test_missing_checklist_is_created_from_template(tmp_path: Path) -> None:
    (tmp_path / "svc.py").write_text("from peft import LoraConfig\n", encoding="utf-8")
    (report,) = validate_checklists(tmp_path, parse_config({}), ["peft"], fix=False)
    assert report.problems == (
        ChecklistProblem(".github/upgrade-deps/checklists/peft.md", None, "no checklist file"),
    )
    assert not (tmp_path / ".github").exists()
    (report,) = validate_checklists(tmp_path, parse_config({}), ["peft"], fix=True)
    assert report.created and report.fixed and report.missing == ("svc.py",)
    created = parse_checklist((tmp_path / report.path).read_text(encoding="utf-8"), display=report.path)
    assert created.problems == ()
    assert created.imports == ("peft",)
    assert [(r.tier, r.file, r.usage) for r in created.rows] == [("secondary", "svc.py", "`LoraConfig`")]
    assert [e.symbol for e in created.entries] == ["peft.LoraConfig"]
    assert new_checklist("peft", ["peft"]).startswith("---\npackage: peft\n")


def test_command_text_json_and_exit_codes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".github").mkdir()
    (repo / ".github/upgrade-deps.toml").write_text(
        '[checklists]\ndir = ".agents/skills/upgrade-deps/checklists"\nprimary = ["areal/engine/"]\n',
        encoding="utf-8",
    )
    args = Namespace(repo=repo, config=None, fix=False, format="text")
    assert main(args) == 1
    assert_golden(capsys.readouterr().out, GOLDEN / "validate-report.txt")
    assert main(Namespace(repo=repo, config=None, fix=False, format="json")) == 1
    assert json.loads(capsys.readouterr().out) == [
        {
            "package": "peft",
            "path": PATH,
            "missing": ["areal/engine/new_engine.py", "areal/utils/helper.py", "tests/test_lora.py"],
            "stale": ["areal/engine/gone.py"],
            "changed": ["areal/engine/lora.py"],
            "problems": [{"file": PATH, "line": 46, "message": "catalog entry numbered 3, expected 2"}],
            "fixed": False,
        }
    ]
    assert main(Namespace(repo=repo, config=None, fix=True, format="text")) == 0
    assert_golden(capsys.readouterr().out, GOLDEN / "fix-report.txt")
    assert main(args) == 0


def test_command_refuses_bad_config(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".github").mkdir()
    (repo / ".github/upgrade-deps.toml").write_text("[checklists]\nprimry = []\n", encoding="utf-8")
    assert main(Namespace(repo=repo, config=None, fix=False, format="text")) == 2
    assert "[checklists] key 'primry': unknown key" in capsys.readouterr().err


def test_wrong_import_names_never_empty_a_checklist(repo: Path) -> None:
    config = parse_config({"package": {"peft": {"imports": ["not_peft"]}}})
    (report,) = validate_checklists(repo, config, ["peft"], fix=True)
    assert report.stale == ("areal/engine/gone.py",) and report.missing == ()  # only a file that is gone
    assert report.problems == (
        ChecklistProblem(
            PATH,
            None,
            "no file imports not_peft (import names from [package.peft].imports); "
            "set [package.peft].imports or 'imports:'",
        ),
    )
    assert "areal/engine/lora.py" in (repo / PATH).read_text(encoding="utf-8")


def test_unreadable_checklist_is_a_problem_and_left_alone(repo: Path) -> None:
    (repo / PATH).write_bytes(b"---\npackage: \xff\xfe\n")
    (report,) = validate_checklists(repo, CONFIG, ["peft"], fix=True)
    assert not report.fixed and len(report.problems) == 1
    assert str(report.problems[0]).startswith(f"{PATH}: cannot be read as UTF-8 text")
    assert (repo / PATH).read_bytes() == b"---\npackage: \xff\xfe\n"


def test_summary_markdown_golden(repo: Path) -> None:
    before = validate_checklists(repo, CONFIG, ["peft"], fix=False)
    after = validate_checklists(repo, CONFIG, ["peft"], fix=True)
    clean = validate_checklists(repo, CONFIG, ["peft"], fix=False)
    text = render_markdown([*before, *after, *clean])
    assert_golden(text, GOLDEN / "checklists-section.md")


def test_fix_writes_through_the_callers_writer(repo: Path) -> None:
    written: dict[str, str] = {}

    def record(relative: str, text: str) -> None:
        written[relative] = text
        (repo / relative).write_text(text, encoding="utf-8")

    (report,) = validate_checklists(repo, CONFIG, ["peft"], fix=True, write=record)
    assert report.fixed and list(written) == [PATH]
    assert_golden(written[PATH], GOLDEN / "peft-fixed.md")
