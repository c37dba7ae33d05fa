"""The upgrade summary rendered from a fixed result matches its golden file."""

from __future__ import annotations

from pathlib import Path

from bot.model import (
    Commit,
    Request,
    Requested,
    Requires,
    Resolution,
    Section,
    Unresolved,
    UpgradeResult,
    VersionChange,
    Warning_,
)
from bot.pipeline.summary import render_summary
from tests.support.golden import assert_golden

GOLDEN = Path(__file__).parent / "golden"


def test_summary_of_a_landed_upgrade() -> None:
    result = UpgradeResult(
        request=Request((Requested("sglang", "sglang", "0.5.10"),), "sglang==0.5.10 @everyone"),
        outcome="landed",
        date="2026-11-23",
        changes=(
            VersionChange("numpy", ("2.2.6",), ("2.3.5",), ("sglang", "vllm"), False, False),
            VersionChange("sglang", ("0.5.9",), ("0.5.10",), ("sglang",), True, True),
        ),
        resolutions=(
            Resolution(
                "transformers",
                "==4.56.0",
                "==4.57.1",
                "sglang",
                "sglang==0.5.10 requires transformers>=4.57",
                requirements=(Requires("sglang==0.5.10", "transformers>=4.57"),),
                version="4.57.1",
                newest="4.58.0",
                least=True,
            ),
            Resolution(
                "numpy",
                ">=2.2,<2.3",
                ">=2.3.5,<3",
                "sglang",
                "every version of kernels requires numpy>=2.3",
                requirements=(Requires("kernels", "numpy>=2.3", every=True),),
                version="2.3.5",
                newest="2.3.5",
                strategy="newest",
            ),
        ),
        unresolved=(
            Unresolved("conflict", "<b>bold</b> from uv", file="pyproject.toml", line=3, blocking=False),
        ),
        warnings=(Warning_("torch is not a focused package"),),
        commits=(Commit("0123456789abcdef", "Pin sglang 0.5.10\n\nbody"),),
        sections={
            "pins": Section("done"),
            "lock": Section("done"),
            "containers": Section("not run", "container updates are not built yet"),
        },
    )
    assert_golden(render_summary(result), GOLDEN / "summary-landed.md")


def test_summary_of_a_refusal_says_which_steps_did_not_run() -> None:
    result = UpgradeResult(
        request=Request((), "torch==2.10.0"),
        outcome="refused",
        date="2026-11-23",
        error="torch is pinned differently per variant",
    )
    assert_golden(render_summary(result), GOLDEN / "summary-refused.md")


def test_summary_with_release_notes() -> None:
    from bot.model import PackageNotes, Release, ReleaseLink

    tags = "https://github.com/sgl-project/sglang/releases/tag"
    body = "## Highlights\r\n- faster @alice, see #123\n<img src=x onerror=alert(1)>"
    sglang = PackageNotes(
        "sglang", "0.5.9", "0.5.10", True, True,
        links=(ReleaseLink("Changelog", "https://github.com/sgl-project/sglang/releases"),
               ReleaseLink("Docs (beta)", "https://docs.sglang.ai/a b")),
        repository="sgl-project/sglang",
        releases=(Release("v0.5.10", "v0.5.10 <b>", f"{tags}/v0.5.10", body, truncated=True),
                  Release("v0.5.9.post1", "", f"{tags}/v0.5.9.post1", "")),
        more=3,
    )  # fmt: skip
    result = UpgradeResult(
        request=Request((Requested("sglang", "sglang", "0.5.10"),), "sglang==0.5.10"),
        outcome="landed",
        date="2026-11-23",
        changes=(
            VersionChange("sglang", ("0.5.9",), ("0.5.10",), ("sglang",), True, True),
            VersionChange("idna", ("3.6",), ("3.7",), ("sglang",), False, False),
        ),
        sections={"pins": Section("done"), "lock": Section("done"), "notes": Section("done")},
        release_notes=(
            sglang,
            PackageNotes(
                "idna", "3.6", "3.7", False, False, problem="offline: cannot reach https://pypi.org"
            ),
        ),
    )
    assert_golden(render_summary(result), GOLDEN / "summary-release-notes.md")


def test_summary_of_a_conflict_that_needs_a_person_lists_it_under_dependency_resolution() -> None:
    conflict = (
        "variant default: upstream packages require incompatible versions of numpy: every version of "
        "legacy-kernels requires numpy<2.3, transformers>=4.57.1 requires numpy>=2.3; the repository pins "
        "numpy==2.2.6 in [tool.uv].override-dependencies"
    )
    result = UpgradeResult(
        request=Request((Requested("transformers", "transformers", "4.57.1"),), "transformers==4.57.1"),
        outcome="not-landed",
        date="2026-11-23",
        unresolved=(Unresolved("conflict", conflict, file="pyproject.toml", line=12, subject="numpy"),),
        sections={"pins": Section("done"), "lock": Section("done")},
    )
    text = render_summary(result)
    assert "No conflicts" not in text
    assert_golden(text, GOLDEN / "summary-conflict.md")
