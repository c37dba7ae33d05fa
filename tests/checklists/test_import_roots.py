"""Import names without configuration: namespace distributions, upstream layouts, and a checklist whose
names find no file at all, which is a problem with the checklist and never a clean one."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.files.config import parse_config
from checklists.document import parse_checklist
from checklists.locate import import_names
from checklists.validate import validate_checklists

PATH = ".agents/skills/upgrade-deps/checklists/megatron-core.md"


def _checklist(package: str, upstream: list[str], catalog: list[str] = (), rows: str = "") -> str:  # type: ignore[assignment]
    front = "".join(f"\n  - {p}" for p in upstream) or " []"
    entries = "".join(f"### {n}. `{symbol}`\n\n**Check:** it\n\n" for n, symbol in enumerate(catalog, 1))
    return (
        f"---\npackage: {package}\ngithub: o/r\nbranch_template: v${{VERSION}}\n"
        f"upstream_paths:{front}\n---\n\n"
        "## Affected Files\n\n### Primary\n\n| File | Imports / Usage |\n| --- | --- |\n"
        f"{rows}\n### Secondary\n\n### Tertiary\n\n## API Usage Catalog\n\n{entries}"
        "## Version-Guarded Code\n\n- none\n"
    )


@pytest.mark.parametrize(
    ("package", "upstream", "catalog", "expected"),
    [
        # AReaL's megatron checklists: two distributions share the `megatron` namespace.
        (
            "megatron-core",
            ["megatron/core/parallel_state.py", "megatron/core/distributed/", "megatron/core/utils.py"],
            [],
            ("megatron.core",),
        ),
        (
            "megatron-bridge",
            ["megatron/bridge/__init__.py", "megatron/bridge/peft/lora.py"],
            [],
            ("megatron.bridge",),
        ),
        # Upstream repositories keep the package under src/ or python/.
        ("peft", ["src/peft/peft_model.py", "src/peft/tuners/lora/config.py"], [], ("peft",)),
        ("sglang", ["python/sglang/srt/server_args.py", "python/sglang/launch_server.py"], [], ("sglang",)),
        # Every watched path lies deep inside the package: the root is still the package.
        (
            "torchao",
            ["torchao/prototype/fp8/linear.py", "torchao/prototype/fp8/kernels.py"],
            [],
            ("torchao",),
        ),
        # A distribution named unlike its module: the paths say which module it is.
        ("PyYAML", ["lib/yaml/constructor.py", "lib/yaml/loader.py"], [], ("yaml",)),
        # No upstream paths: the catalog's module paths, the most common root winning over bare names.
        (
            "megatron-core",
            [],
            [
                "megatron.core.parallel_state.initialize_model_parallel",
                "megatron.core.utils.get_model_config",
                "GPTModel.forward",
            ],
            ("megatron.core",),
        ),
        # Nothing to infer from: the package's name, as before.
        ("megatron-core", [], ["GPTModel"], ("megatron_core",)),
    ],
)
def test_import_root_is_inferred(
    package: str, upstream: list[str], catalog: list[str], expected: tuple[str, ...]
) -> None:
    checklist = parse_checklist(_checklist(package, upstream, catalog), display="c.md")
    assert import_names(package, parse_config({}), checklist=checklist).names == expected


def test_configuration_checklist_imports_and_distribution_come_first() -> None:
    checklist = parse_checklist(_checklist("megatron-core", ["megatron/core/utils.py"]), display="c.md")
    config = parse_config({"package": {"megatron-core": {"imports": ["mcore"]}}})
    assert import_names("megatron-core", config, checklist=checklist).names == ("mcore",)
    found = import_names(
        "megatron-core",
        parse_config({}),
        checklist=checklist,
        distribution={"megatron-core": ("megatron.core",)},
    )
    assert (found.names, found.source) == (("megatron.core",), "the distribution's modules")


FILES = {
    "areal/engine/megatron_engine.py": "from megatron.core import parallel_state as mpu\n",
    "areal/models/registry.py": "import megatron.core.models.gpt as gpt\n",
    "areal/utils/short.py": "from megatron import core\n",
    "areal/models/bridge.py": "from megatron.bridge import AutoBridge\n",  # the other distribution
    "areal/unrelated.py": "import megatron_core_like\n",
}


def _repo(tmp_path: Path, checklist: str, files: dict[str, str]) -> Path:
    for relative, text in {**files, PATH: checklist}.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    return tmp_path


def test_namespace_distribution_finds_its_files(tmp_path: Path) -> None:
    rows = "| `areal/engine/megatron_engine.py` | `parallel_state` |\n"
    repo = _repo(tmp_path, _checklist("megatron-core", ["megatron/core/parallel_state.py"], rows=rows), FILES)
    (report,) = validate_checklists(repo, parse_config({}), ["megatron-core"], fix=False)
    assert report.missing == ("areal/models/registry.py", "areal/utils/short.py")
    assert report.problems == ()


def test_names_that_find_no_file_are_a_problem_never_a_clean_checklist(tmp_path: Path) -> None:
    # Nothing listed, nothing found: before, the checklist was reported clean.
    repo = _repo(tmp_path, _checklist("megatron-core", []), FILES)
    (report,) = validate_checklists(repo, parse_config({}), ["megatron-core"], fix=True)
    assert not report.clean
    assert [str(p) for p in report.problems] == [
        f"{PATH}: no file imports megatron_core (import names from the package name); "
        "set [package.megatron-core].imports or 'imports:'"
    ]


def test_with_no_file_found_only_files_that_are_gone_are_stale(tmp_path: Path) -> None:
    rows = "| `areal/engine/megatron_engine.py` | `parallel_state` |\n| `areal/gone.py` | `utils` |\n"
    config = parse_config({"package": {"megatron-core": {"imports": ["wrong.name"]}}})
    repo = _repo(tmp_path, _checklist("megatron-core", [], rows=rows), FILES)
    (report,) = validate_checklists(repo, config, ["megatron-core"], fix=True)
    assert report.stale == ("areal/gone.py",)  # a fact; the file that exists is kept: the names may be wrong
    assert [p.message for p in report.problems] == [
        "no file imports wrong.name (import names from [package.megatron-core].imports); "
        "set [package.megatron-core].imports or 'imports:'"
    ]
    assert "areal/engine/megatron_engine.py" in (repo / PATH).read_text(encoding="utf-8")


def test_an_import_documented_by_its_alias_is_documented(tmp_path: Path) -> None:
    rows = "| `areal/engine/megatron_engine.py` | `mpu`, `DDP` |\n"
    files = {
        "areal/engine/megatron_engine.py": (
            "from megatron.core import parallel_state as mpu\n"
            "from megatron.core.distributed import DistributedDataParallel as DDP\n"
            "from megatron.core.distributed import finalize_model_grads\n"
        )
    }
    repo = _repo(tmp_path, _checklist("megatron-core", ["megatron/core/utils.py"], rows=rows), files)
    (report,) = validate_checklists(repo, parse_config({}), ["megatron-core"], fix=False)
    assert report.undocumented == {"areal/engine/megatron_engine.py": ("finalize_model_grads",)}
