"""A bot pull request read by the pipeline: its config names the bots, its files give the request."""

from __future__ import annotations

from pathlib import Path

from bot.pipeline.botpr import CONFIG_PATH, Derived, FileAt, config_names_bot, derive_pull
from bot.pipeline.request import parse_request
from tests.pipeline.test_botpr import lock, manifest


def sides(base: dict[str, str], head: dict[str, str], seen: list[tuple[str, str]]) -> FileAt:
    async def file_at(side: str, path: str) -> str | None:
        seen.append((side, path))
        return (base if side == "base" else head).get(path)

    return file_at


def work_tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    return tmp_path


def test_a_config_names_its_bots_and_a_broken_one_names_none() -> None:
    assert config_names_bot('[bots]\nauthors = ["ci-bot[bot]"]\n', "ci-bot[bot]")
    assert not config_names_bot('[bots]\nauthors = ["ci-bot[bot]"]\n', "renovate[bot]")
    assert config_names_bot("", "renovate[bot]")  # no [bots]: the default bots
    assert not config_names_bot(None, "renovate[bot]")  # no file: none beyond the defaults the caller knows
    assert not config_names_bot('[bots\nauthors = ["ci-bot[bot]"]', "ci-bot[bot]")
    assert not config_names_bot("[bots]\nauthors = 3\n", "ci-bot[bot]")
    assert CONFIG_PATH == ".github/upgrade-deps.toml"


async def test_the_files_of_both_sides_give_a_parsed_request(tmp_path: Path) -> None:
    base = {"pyproject.toml": manifest("torch==2.9.1"), "uv.lock": lock(torch="2.9.1")}
    head = {"pyproject.toml": manifest("torch==2.10.0"), "uv.lock": lock(torch="2.10.0")}
    seen: list[tuple[str, str]] = []
    derived = await derive_pull(work_tree(tmp_path, head), author="renovate[bot]",
                                file_at=sides(base, head, seen))  # fmt: skip
    assert derived == Derived(parse_request(["torch==2.10.0"]))
    assert seen == [("base", "pyproject.toml"), ("base", "uv.lock"), ("head", "pyproject.toml"),
                    ("head", "uv.lock")]  # fmt: skip


async def test_not_a_bot_nothing_moved_and_unreadable_files(tmp_path: Path) -> None:
    files = {"pyproject.toml": manifest("torch==2.9.1"), "uv.lock": lock(torch="2.9.1")}
    tree = work_tree(tmp_path, files)
    seen: list[tuple[str, str]] = []
    assert await derive_pull(tree, author="someone", file_at=sides(files, files, seen)) is None
    assert seen == []  # a person's pull request: not one file read
    assert await derive_pull(tree, author="renovate[bot]", file_at=sides(files, files, seen)) == Derived()
    broken = {**files, "uv.lock": "not = [toml"}
    derived = await derive_pull(tree, author="renovate[bot]", file_at=sides(files, broken, seen))
    assert derived is not None and derived.request is None and "uv.lock" in (derived.problem or "")
    (tree / CONFIG_PATH).parent.mkdir()
    (tree / CONFIG_PATH).write_text("[bots]\nauthors = 3\n")
    derived = await derive_pull(tree, author="renovate[bot]", file_at=sides(files, files, seen))
    assert derived is not None and derived.request is None and CONFIG_PATH in (derived.problem or "")


async def test_a_moved_pin_that_is_no_version_is_a_problem_not_a_request(tmp_path: Path) -> None:
    base = {"pyproject.toml": manifest("torch==2.9.1"), "uv.lock": lock(torch="2.9.1")}
    head = {"pyproject.toml": manifest("torch==2.10.*"), "uv.lock": lock(torch="2.9.1")}
    derived = await derive_pull(
        work_tree(tmp_path, head), author="renovate[bot]", file_at=sides(base, head, [])
    )
    assert derived is not None and derived.request is None
    assert "'2.10.*' is not a valid version" in (derived.problem or "")


async def test_a_workspace_members_manifests_are_read_from_both_sides(tmp_path: Path) -> None:
    root = manifest("torch==2.9.1") + '\n[tool.uv.workspace]\nmembers = ["packages/*"]\n'
    member = '[project]\nname = "m"\nversion = "0.1.0"\ndependencies = ["numpy==2.2.6"]\n'
    other = member.replace('"m"', '"n"')
    base = {"pyproject.toml": root, "uv.lock": lock(torch="2.9.1"),
            "packages/m/pyproject.toml": member, "packages/n/pyproject.toml": other}  # fmt: skip
    head = {**base, "packages/m/pyproject.toml": member.replace("2.2.6", "2.3.5")}  # no lock moved
    seen: list[tuple[str, str]] = []
    derived = await derive_pull(work_tree(tmp_path, head), author="dependabot[bot]",
                                file_at=sides(base, head, seen))  # fmt: skip
    # The unit is named, so the other member that pins numpy moves with it and the root lock follows.
    assert derived == Derived(parse_request(["numpy==2.3.5@default"]))
    assert ("base", "packages/n/pyproject.toml") in seen and ("head", "packages/m/pyproject.toml") in seen
