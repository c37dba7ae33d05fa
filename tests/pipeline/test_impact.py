"""The impact matrix: a package diverges when variants allow or resolve different versions, never
because one variant writes the same pin more often."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.files.lockfile import parse_lock, read_lock
from bot.files.manifest import Manifest
from bot.model import Variant
from bot.pipeline.context import Runtime
from bot.pipeline.impact import impact_of
from bot.pipeline.request import parse_request
from bot.pipeline.upgrade import run_upgrade
from bot.tools.isolation import Isolation
from tests.support.repos import make_repo
from tests.support.wheels import WheelSpec

VARIANTS = (
    Variant("default", "pyproject.toml", "uv.lock"),
    Variant("gpu", "pyproject.gpu.toml", "uv.gpu.lock"),
)
HEAD = '[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
OFFLINE = '\n[tool.uv]\nno-index = true\nfind-links = ["wheelhouse"]\n'


def _lock(version: str) -> str:
    return (
        'version = 1\nrequires-python = ">=3.11"\n\n[[package]]\nname = "demo"\nversion = "0.1.0"\n'
        'source = { virtual = "." }\n\n[[package]]\nname = "numpy"\n'
        f'version = "{version}"\nsource = {{ registry = "wheelhouse" }}\n'
    )


def _scope(default: str, gpu: str, *, versions: tuple[str, str] = ("2.1.0", "2.1.0")) -> str:
    manifests = {
        "default": Manifest(HEAD + default, display="pyproject.toml"),
        "gpu": Manifest(HEAD + gpu, display="pyproject.gpu.toml"),
    }
    locks = {name: parse_lock(_lock(v), display=name) for name, v in zip(manifests, versions, strict=True)}
    return impact_of("numpy", VARIANTS, manifests, locks).scope


@pytest.mark.parametrize(
    ("default", "gpu"),
    [
        # The same pin again in one variant's overrides or constraints.
        ('dependencies = ["numpy==2.1.0"]\n', 'dependencies = ["numpy==2.1.0"]\n'
         '[tool.uv]\noverride-dependencies = ["numpy==2.1.0"]\n'),
        ('dependencies = ["numpy==2.1.0"]\n', 'dependencies = ["numpy==2.1.0"]\n'
         '[tool.uv]\nconstraint-dependencies = ["numpy==2.1.0"]\n'),
        # A bound an exact pin already implies, and one range written two ways.
        ('dependencies = ["numpy==2.1.0"]\n', 'dependencies = ["numpy==2.1.0"]\n'
         '[tool.uv]\nconstraint-dependencies = ["numpy<3"]\n'),
        ('dependencies = ["numpy>=2.0,<3"]\n', 'dependencies = ["numpy>=2,<3.0"]\n'
         '[dependency-groups]\ndev = ["numpy>=2"]\n'),
    ],
)  # fmt: skip
def test_the_same_allowance_written_more_often_is_shared(default: str, gpu: str) -> None:
    assert _scope(default, gpu) == "shared"


@pytest.mark.parametrize(
    ("default", "gpu", "versions"),
    [
        ('dependencies = ["numpy==2.1.0"]\n', 'dependencies = ["numpy==2.2.0"]\n', ("2.1.0", "2.2.0")),
        ('dependencies = ["numpy>=2.0"]\n', 'dependencies = ["numpy>=2.0,<2.2"]\n', ("2.1.0", "2.1.0")),
        ('dependencies = ["numpy==2.1.0"]\n', 'dependencies = ["numpy==2.1.0"]\n', ("2.1.0", "2.2.0")),
        ('dependencies = ["numpy==2.1.0"]\n',
         'dependencies = ["numpy==2.1.0; sys_platform == \'linux\'"]\n', ("2.1.0", "2.1.0")),
    ],
)  # fmt: skip
def test_a_difference_in_what_is_allowed_or_resolved_is_divergent(
    default: str, gpu: str, versions: tuple[str, str]
) -> None:
    assert _scope(default, gpu, versions=versions) == "shared-divergent"


async def test_a_pin_repeated_in_one_variants_overrides_is_upgraded_in_every_declaration(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    wheels = [WheelSpec("numpy", "2.1.0"), WheelSpec("numpy", "2.2.0")]
    gpu = HEAD + 'dependencies = ["numpy==2.1.0"]\n' + OFFLINE + 'override-dependencies = ["numpy==2.1.0"]\n'
    files = {
        "pyproject.toml": HEAD + 'dependencies = ["numpy==2.1.0"]\n' + OFFLINE,
        "pyproject.gpu.toml": gpu,
    }
    variants = (("pyproject.toml", "uv.lock"), ("pyproject.gpu.toml", "uv.gpu.lock"))
    repo = make_repo(tmp_path, files, variants=variants, wheels=wheels)
    result = await run_upgrade(repo, parse_request(["numpy==2.2.0"]), runtime=Runtime(environ, isolation))
    assert result.outcome == "landed", result.error
    assert (repo / "pyproject.gpu.toml").read_text().count('"numpy==2.2.0"') == 2
    assert '"numpy==2.2.0"' in (repo / "pyproject.toml").read_text()
    for lock in ("uv.lock", "uv.gpu.lock"):
        assert read_lock(repo, lock).versions()["numpy"] == ("2.2.0",)
