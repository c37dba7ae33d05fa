"""Every unresolved item sits at the declaration or line that blocks it, so it can be annotated and
commented where a reviewer looks."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.model import UpgradeResult
from bot.pipeline.context import Runtime
from bot.pipeline.request import parse_request
from bot.pipeline.upgrade import run_upgrade
from bot.tools.isolation import Isolation
from tests.support.repos import dual_repo, make_repo

pytestmark = pytest.mark.asyncio

HEAD = '[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
OFFLINE = '\n[tool.uv]\nno-index = true\nfind-links = ["wheelhouse"]\n'


async def upgrade(
    repo: Path, args: list[str], environ: dict[str, str], isolation: Isolation
) -> UpgradeResult:
    return await run_upgrade(repo, parse_request(args), runtime=Runtime(environ, isolation))


def located(result: UpgradeResult, kind: str) -> list[tuple[str | None, int | None, str]]:
    return [(u.file, u.line, u.subject) for u in result.unresolved if u.kind == kind]


async def test_a_requested_package_the_repository_does_not_pin_clashes_at_the_pin_that_brings_it(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    # torch comes only through sglang, which requires torch==2.9.1 in every version.
    repo = make_repo(
        tmp_path, {"pyproject.toml": HEAD + 'dependencies = [\n    "sglang==0.5.9",\n]\n' + OFFLINE}
    )
    result = await upgrade(repo, ["torch==2.10.0"], environ, isolation)
    assert result.outcome == "not-landed"
    assert located(result, "conflict") == [("pyproject.toml", 6, "torch")]


async def test_a_url_pin_of_a_requested_package_needs_a_person_at_its_line(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    wheel = (tmp_path / "repo" / "wheelhouse" / "peft-0.17.0-py3-none-any.whl").as_uri()
    manifest = (
        HEAD + 'dependencies = ["transformers==4.56.0", "peft>=0.17.0"]\n\n'
        f'[dependency-groups]\nlegacy = [\n    "transformers==4.56.0",\n    "peft @ {wheel}",\n]\n'
    )
    repo = make_repo(tmp_path, {"pyproject.toml": manifest + OFFLINE})
    result = await upgrade(repo, ["transformers==4.57.1", "peft==0.17.0"], environ, isolation)
    assert result.outcome == "attention", result
    [item] = [u for u in result.unresolved if u.kind == "url-pin"]
    assert (item.file, item.line, item.subject, item.blocking) == ("pyproject.toml", 10, "peft", False)
    assert "not rewritten: move that reference by hand" in item.message


async def test_a_broken_compatibility_pair_sits_at_the_required_packages_pin(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    config = '[[policy.pair]]\nwhen = "transformers>=4.57"\nrequire = "torch>=2.10"\n'
    repo = dual_repo(tmp_path, **{".github/upgrade-deps.toml": config})
    result = await upgrade(repo, ["transformers==4.57.1"], environ, isolation)
    assert result.outcome == "not-landed"
    # The vllm variant has torch 2.10.0; the default variant's own torch pin breaks the pair.
    assert located(result, "policy") == [("pyproject.toml", 7, "torch")]


async def test_a_failed_verification_sits_at_its_command_in_the_config(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    config = (
        '[package.transformers]\n\n[[verify]]\nname = "lint"\nrun = "true"\n\n'
        '[[verify]]\nname = "smoke"\nrun = "exit 3"\n'
    )
    repo = dual_repo(tmp_path, **{".github/upgrade-deps.toml": config})
    result = await upgrade(repo, ["transformers==4.57.1"], environ, isolation)
    assert result.outcome == "attention", result
    assert located(result, "verify") == [(".github/upgrade-deps.toml", 7, "smoke")]


async def test_a_request_an_upstream_package_refuses_sits_at_that_packages_pin(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    # numpy is declared nowhere; every version of legacy-kernels keeps it below 2.3.
    repo = make_repo(
        tmp_path, {"pyproject.toml": HEAD + 'dependencies = [\n    "legacy-kernels",\n]\n' + OFFLINE}
    )
    result = await upgrade(repo, ["numpy==2.3.5"], environ, isolation)
    assert result.outcome == "not-landed"
    assert located(result, "conflict") == [("pyproject.toml", 6, "numpy")]


async def test_a_pair_broken_by_a_package_the_repository_does_not_pin_sits_at_its_lock_entry(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    config = '[[policy.pair]]\nwhen = "transformers>=4.57"\nrequire = "numpy>=2.4"\n'
    repo = dual_repo(tmp_path, **{".github/upgrade-deps.toml": config})
    result = await upgrade(repo, ["transformers==4.57.1"], environ, isolation)
    assert result.outcome == "not-landed"
    # numpy comes only through transformers: the line to look at is its entry in each lock.
    entries = {
        lock: (repo / lock).read_text().splitlines().index('name = "numpy"') + 1
        for lock in ("uv.lock", "uv.vllm.lock")
    }
    assert sorted(located(result, "policy")) == sorted(
        (lock, line, "numpy") for lock, line in entries.items()
    )
