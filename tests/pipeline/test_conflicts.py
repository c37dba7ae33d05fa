"""Step 3 on real locks: conflicts that need a person name the upstream packages that clash and what
the repository pins, at its own line; auto-resolved pins cite their own requirement and move by the
least change (or to the newest, as configured)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.files.lockfile import read_lock
from bot.model import Requires, UpgradeResult
from bot.pipeline.context import Runtime
from bot.pipeline.request import parse_request
from bot.pipeline.summary import render_summary
from bot.pipeline.upgrade import run_upgrade
from bot.tools.isolation import Isolation
from tests.support.repos import STACK, git, make_repo, snapshot
from tests.support.wheels import WheelSpec

pytestmark = pytest.mark.asyncio

HEAD = '[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
OFFLINE = '\n[tool.uv]\nno-index = true\nfind-links = ["wheelhouse"]\n'
# An upstream package that caps what sglang 0.5.10 needs: nothing the repository pins can fix that.
CAPPED = [*STACK, WheelSpec("oldpeft", "1.0", ["transformers<4.57"])]


async def upgrade(
    repo: Path, args: list[str], environ: dict[str, str], isolation: Isolation
) -> UpgradeResult:
    return await run_upgrade(repo, parse_request(args), runtime=Runtime(environ, isolation))


def line_of(repo: Path, path: str, text: str) -> int:
    return next(n for n, line in enumerate((repo / path).read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize("transformers", ["transformers>=4.56", "transformers==4.56.0"])
async def test_a_clash_of_upstream_packages_names_both_and_the_repositorys_own_pin(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation, transformers: str
) -> None:
    # With `==4.56.0`, uv's first complaint is the repository's own pin; the clash that needs a
    # person only shows once that pin is relaxed.
    manifest = (
        HEAD + f'dependencies = ["torch==2.9.1", "{transformers}", "oldpeft"]\n\n'
        '[project.optional-dependencies]\nsglang = ["sglang==0.5.9"]\n' + OFFLINE
    )
    repo = make_repo(tmp_path, {"pyproject.toml": manifest}, wheels=CAPPED)
    before = snapshot(repo)
    result = await upgrade(repo, ["sglang==0.5.10"], environ, isolation)
    assert result.outcome == "not-landed"
    [conflict] = [u for u in result.unresolved if u.kind == "conflict"]
    assert conflict.message == (
        "variant default: upstream packages require incompatible versions of transformers: "
        "sglang>=0.5.10 requires transformers>=4.57, every version of oldpeft requires transformers<4.57; "
        f"the repository pins {transformers} in [project].dependencies"
    )
    assert (conflict.file, conflict.line) == ("pyproject.toml", 5)
    summary = render_summary(result)
    resolution = summary.split("### Dependency Resolution")[1].split("###")[0]
    assert "Conflicts (need user resolution):" in resolution and "No conflicts" not in resolution
    assert "[pyproject.toml:5]" in resolution and "demo[sglang]" not in summary
    assert snapshot(repo) == before and git(repo, "status", "--porcelain") == ""


async def test_a_clash_on_a_package_the_repository_does_not_pin_sits_on_the_requested_pin(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    manifest = (
        HEAD
        + 'dependencies = [\n    "peft>=0.17.0",\n    "transformers==4.56.0",\n    "legacy-kernels",\n]\n'
    )
    repo = make_repo(tmp_path, {"pyproject.toml": manifest + OFFLINE})
    result = await upgrade(repo, ["transformers==4.57.1"], environ, isolation)
    [conflict] = [u for u in result.unresolved if u.kind == "conflict"]
    assert conflict.message == (
        "variant default: upstream packages require incompatible versions of numpy: every version of "
        "legacy-kernels requires numpy<2.3, transformers>=4.57.1 requires numpy>=2.3; "
        "the repository does not pin numpy"
    )
    assert (conflict.file, conflict.line, conflict.subject) == ("pyproject.toml", 7, "numpy")


async def test_a_request_that_upstream_refuses_names_the_request_and_the_pin(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    manifest = HEAD + 'dependencies = ["torch==2.9.1", "sglang==0.5.9"]\n'
    repo = make_repo(tmp_path, {"pyproject.toml": manifest + OFFLINE})
    result = await upgrade(repo, ["torch==2.10.0"], environ, isolation)
    [conflict] = [u for u in result.unresolved if u.kind == "conflict"]
    assert conflict.message == (
        "variant default: the request asks for torch==2.10.0, but every version of sglang requires "
        "torch==2.9.1; the repository pins torch==2.9.1 in [project].dependencies"
    )
    assert (conflict.file, conflict.line) == ("pyproject.toml", 5)


async def test_every_variant_that_cannot_lock_reports_its_conflict_at_its_own_manifest(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    default = HEAD + 'dependencies = [\n    "transformers==4.56.0",\n    "legacy-kernels",\n]\n' + OFFLINE
    vllm = HEAD + 'dependencies = ["legacy-kernels", "transformers==4.56.0"]\n' + OFFLINE
    variants = (("pyproject.toml", "uv.lock"), ("pyproject.vllm.toml", "uv.vllm.lock"))
    files = {"pyproject.toml": default, "pyproject.vllm.toml": vllm}
    repo = make_repo(tmp_path, files, variants=variants)
    before = snapshot(repo)
    result = await upgrade(repo, ["transformers==4.57.1"], environ, isolation)
    assert result.outcome == "not-landed"
    where = [(u.file, u.line) for u in result.unresolved if u.kind == "conflict"]
    assert where == [("pyproject.toml", 6), ("pyproject.vllm.toml", 5)]
    assert snapshot(repo) == before


# One request that moves two of the repository's pins, each for its own reason.
TWO_PINS = [
    WheelSpec("app", "1.0", ["b>=1,<2", "c>=1,<2"]),
    WheelSpec("app", "2.0", ["b>=2", "c>=3"]),
    *(WheelSpec("b", v) for v in ("1.0", "2.0", "2.1", "3.0")),
    *(WheelSpec("c", v) for v in ("1.0", "3.0", "3.1", "4.0")),
]


@pytest.mark.parametrize(
    ("policy", "b", "c"), [("", "2.0", ">=3.0,<4"), ('resolve = "newest"\n', "3.0", ">=4.0,<5")]
)
async def test_each_moved_pin_cites_its_own_requirement_and_moves_as_the_policy_says(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation, policy: str, b: str, c: str
) -> None:
    manifest = HEAD + 'dependencies = ["app==1.0", "b==1.0", "c>=1.0,<2"]\n' + OFFLINE
    config = {".github/upgrade-deps.toml": f"[policy]\n{policy}"} if policy else {}
    repo = make_repo(tmp_path, {"pyproject.toml": manifest, **config}, wheels=TWO_PINS)
    result = await upgrade(repo, ["app==2.0"], environ, isolation)
    assert result.outcome == "landed", result
    moved = {r.package: r for r in result.resolutions}
    assert (moved["b"].old_specifier, moved["b"].new_specifier) == ("==1.0", f"=={b}")
    assert (moved["c"].old_specifier, moved["c"].new_specifier) == (">=1.0,<2", c)
    assert moved["b"].because == "app>=2.0 requires b>=2"
    assert moved["c"].because == "app>=2.0 requires c>=3"
    assert (moved["b"].version, moved["b"].newest, moved["b"].least) == (b, "3.0", not policy)
    assert f'"b=={b}"' in (repo / "pyproject.toml").read_text()
    assert read_lock(repo, "uv.lock").versions()["b"] == (b,)
    summary = render_summary(result)
    if policy:
        assert f'`{b}` is the newest that resolves ([policy] resolve = "newest")' in summary
    else:
        assert (
            f'`{b}` is the least version that satisfies it ([policy] resolve = "least"; the newest' in summary
        )
    messages = [commit.message for commit in result.commits]
    assert any(m.startswith("Move b pin ==1.0 -> ==") and "app>=2.0 requires b>=2" in m for m in messages)


async def test_a_major_jump_is_not_taken_where_a_minor_one_satisfies_the_requirement(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    wheels = [
        WheelSpec("requests", "2.31.0", ["urllib3>=1.21.1,<3"]),
        WheelSpec("requests", "2.32.0", ["urllib3>=1.26,<3"]),
        *(WheelSpec("urllib3", v) for v in ("1.25.11", "1.26.0", "1.26.20", "2.0.0", "2.8.0")),
    ]
    manifest = HEAD + 'dependencies = ["requests==2.31.0", "urllib3==1.25.11"]\n' + OFFLINE
    repo = make_repo(tmp_path, {"pyproject.toml": manifest}, wheels=wheels)
    result = await upgrade(repo, ["requests==2.32.0"], environ, isolation)
    assert result.outcome == "landed", result
    [moved] = result.resolutions
    assert (moved.new_specifier, moved.because, moved.newest) == (
        "==1.26.0",
        "requests>=2.32.0 requires urllib3>=1.26,<3",
        "2.8.0",
    )
    assert line_of(repo, "pyproject.toml", '"urllib3==1.26.0"') == 5


async def test_a_pin_the_request_itself_rules_out_cites_that_pins_own_requirement(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    # No upstream package requires transformers to move: numpy 2.3.5 does, through transformers'
    # own requirement on numpy.
    manifest = HEAD + 'dependencies = ["transformers==4.56.0"]\n' + OFFLINE
    repo = make_repo(tmp_path, {"pyproject.toml": manifest})
    result = await upgrade(repo, ["numpy==2.3.5"], environ, isolation)
    assert result.outcome == "landed", result
    [moved] = result.resolutions
    assert (moved.package, moved.new_specifier) == ("transformers", "==4.57.1")
    assert moved.requirements == (Requires("transformers<=4.56.0", "numpy>=2,<2.3"),)
    assert "`transformers<=4.56.0` requires `numpy>=2,<2.3`; the repository specified" in render_summary(
        result
    )


async def test_two_requested_packages_that_clash_with_each_other_are_not_called_unavailable(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    wheels = [
        WheelSpec("a", "1.0", ["c>=1"]), WheelSpec("a", "2.0", ["c==2.0"]),
        WheelSpec("b", "1.0", ["c>=1"]), WheelSpec("b", "2.0", ["c==1.0"]),
        WheelSpec("c", "1.0"), WheelSpec("c", "2.0"),
    ]  # fmt: skip
    manifest = HEAD + 'dependencies = [\n    "a==1.0",\n    "b==1.0",\n    "c==1.0",\n]\n' + OFFLINE
    repo = make_repo(tmp_path, {"pyproject.toml": manifest}, wheels=wheels)
    result = await upgrade(repo, ["a==2.0", "b==2.0"], environ, isolation)
    assert result.outcome == "not-landed"
    [conflict] = result.unresolved
    assert conflict.message == (
        "variant default: upstream packages require incompatible versions of c: b>=2.0 requires c==1.0, "
        "a>=2.0 requires c==2.0; the repository pins c==1.0 in [project].dependencies"
    )
    assert (conflict.file, conflict.line) == ("pyproject.toml", 8)


async def test_a_pin_that_must_follow_another_move_cites_both_sides_of_its_clash(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    # The shape of torchvision 0.20.1 with xformers 0.0.28.post1: nothing requires xformers to move,
    # but its pinned version requires the torch that torchvision's new version rules out.
    wheels = [
        WheelSpec("torch", "2.4.1"), WheelSpec("torch", "2.5.1"),
        WheelSpec("torchvision", "0.19.1", ["torch==2.4.1"]),
        WheelSpec("torchvision", "0.20.1", ["torch==2.5.1"]),
        WheelSpec("xformers", "0.0.28.post1", ["torch==2.4.1"]),
        WheelSpec("xformers", "0.0.28.post3", ["torch==2.5.1"]),
        WheelSpec("xformers", "0.0.29", ["torch==2.5.1"]),
    ]  # fmt: skip
    manifest = (
        HEAD + 'dependencies = ["torch==2.4.1", "torchvision==0.19.1", "xformers==0.0.28.post1"]\n' + OFFLINE
    )
    repo = make_repo(tmp_path, {"pyproject.toml": manifest}, wheels=wheels)
    result = await upgrade(repo, ["torchvision==0.20.1"], environ, isolation)
    assert result.outcome == "landed", result
    moved = {r.package: r for r in result.resolutions}
    assert moved["torch"].new_specifier == "==2.5.1"
    assert moved["torch"].requirements == (Requires("torchvision>=0.20.1", "torch==2.5.1"),)
    xformers = moved["xformers"]
    assert (xformers.new_specifier, xformers.newest) == ("==0.0.28.post3", "0.0.29")
    assert set(xformers.requirements) == {
        Requires("xformers<=0.0.28.post1", "torch==2.4.1"),
        Requires("torchvision>=0.20.1", "torch==2.5.1"),
    }
    assert (xformers.own, moved["torch"].own) == (True, False)
    summary = render_summary(result)
    assert (
        "updated to `==0.0.28.post3`: `0.0.28.post3` is the least version that resolves with them" in summary
    )
    message = next(c.message for c in result.commits if c.message.startswith("Move xformers"))
    assert "follows the other packages' requirements, to 0.0.28.post3" in message


async def test_an_unavailable_version_is_explained_by_its_own_cause_not_by_the_trial_manifest(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    # The shapes of MCP's python-sdk and AReaL: default groups, sources tied to an extra, conflicts
    # between extras, a build backend. The trial that locks the requested pin alone keeps none of
    # what it drops referred to, so uv's complaint is the requested version's, not the trial's.
    wheels = [
        *STACK, WheelSpec("kernels", "1.0"), WheelSpec("kernels", "2.0", ["missing-runtime>=1"]),
        WheelSpec("docs-theme", "1.0"),
    ]  # fmt: skip
    manifest = (
        HEAD + 'dependencies = ["kernels==1.0", "torch==2.9.1"]\n\n'
        '[project.optional-dependencies]\ncuda = ["torch==2.9.1"]\nrocm = ["torch==2.9.1"]\n\n'
        '[dependency-groups]\ndev = ["docs-theme==1.0"]\n\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        + OFFLINE
        + 'default-groups = ["dev"]\nconflicts = [[{ extra = "cuda" }, { extra = "rocm" }]]\n\n'
        '[tool.uv.sources]\ntorch = [{ path = "wheelhouse/torch-2.9.1-py3-none-any.whl", extra = "cuda" }]\n'
    )
    repo = make_repo(
        tmp_path, {"pyproject.toml": manifest.replace("[build-system]", "[x-build]")}, wheels=wheels
    )
    (repo / "pyproject.toml").write_text(manifest, encoding="utf-8")  # locked without hatchling at hand
    git(repo, "commit", "-qam", "build with hatchling")
    before = snapshot(repo)
    result = await upgrade(repo, ["kernels==2.0"], environ, isolation)
    assert result.outcome == "not-landed"
    [conflict] = [u for u in result.unresolved if u.kind == "conflict"]
    assert "cannot be installed" in conflict.message and "missing-runtime" in conflict.message, conflict
    for trial_only in ("default-groups", "Default group", "extra", "conflicts", "hatchling"):
        assert trial_only not in conflict.message, conflict.message
    assert snapshot(repo) == before


async def test_a_lock_that_fails_for_no_version_reason_reports_uvs_own_error(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    # AReaL's shape: a source uv cannot fetch (there, a git repository on a host out of reach).
    # That is no clash of versions, and no trial lock is needed to say what a person has to do.
    helper = '[project]\nname = "helper"\nversion = "1.0"\n'
    manifest = (
        HEAD + 'dependencies = ["kernels==1.0", "helper"]\n' + OFFLINE
        + '\n[tool.uv.sources]\nhelper = { path = "libs/helper" }\n'
    )  # fmt: skip
    wheels = [*STACK, WheelSpec("kernels", "1.0"), WheelSpec("kernels", "2.0")]
    files = {"pyproject.toml": manifest, "libs/helper/pyproject.toml": helper}
    repo = make_repo(tmp_path, files, wheels=wheels)
    git(repo, "rm", "-rq", "libs")
    git(repo, "commit", "-qm", "the helper is gone")
    result = await upgrade(repo, ["kernels==2.0"], environ, isolation)
    assert result.outcome == "not-landed"
    [conflict] = [u for u in result.unresolved if u.kind == "conflict"]
    assert conflict.message.startswith(
        "variant default: uv could not lock it, for a reason other than versions: "
    ), conflict.message
    assert "helper" in conflict.message and "incompatible" not in conflict.message
    assert "cannot be installed" not in conflict.message
