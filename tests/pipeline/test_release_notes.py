"""Release notes, the pure parts: which tags are in range, which links come first, what is trimmed."""

from __future__ import annotations

from packaging.version import Version

from bot.model import Release, VersionChange
from bot.pipeline.release_notes import (
    BODY_LIMIT,
    between,
    github_repo,
    ordered,
    rank_links,
    tag_version,
    trimmed,
)
from bot.tools.release_index import links_from_json, links_from_metadata, metadata_url


def release(tag: str, body: str = "") -> Release:
    return Release(tag, tag, f"https://github.com/o/r/releases/tag/{tag}", body)


def test_tags_name_versions_of_this_package_only() -> None:
    assert tag_version("v1.2.0", "pkg") == Version("1.2.0")
    assert tag_version("1.2.0rc1", "pkg") == Version("1.2.0rc1")
    assert tag_version("pkg-v1.2", "pkg") == Version("1.2")
    assert tag_version("Pkg_v1.2", "pkg") == Version("1.2")
    assert tag_version("release-3", "pkg") == Version("3")
    assert tag_version("other-v1.2", "pkg") is None and tag_version("nightly", "pkg") is None
    found = between(
        [release(t) for t in ("v2.0", "v1.2", "1.2", "v1.1.post1", "v1.1", "v1.0")], "pkg", "1.1", "1.2"
    )
    assert [r.tag for r in found] == ["v1.2", "v1.1.post1"]


def test_order_links_and_repository() -> None:
    changes = [
        VersionChange(n, ("1",), ("2",), ("d",), r, f)
        for n, r, f in [("zlib", False, False), ("b", False, True), ("a", True, True), ("c", False, False)]
    ]
    assert [c.package for c in ordered(changes)] == ["a", "b", "c", "zlib"]
    links = {
        "Homepage": "https://x.org",
        "Source": "https://github.com/o/r/tree/main",
        "Changelog": "https://x.org/changes",
        "Bad": "ftp://x",
        "Sponsor": "https://github.com/sponsors/o",
    }
    assert [link.label for link in rank_links(links)] == ["Changelog", "Source", "Homepage", "Sponsor"]
    assert github_repo(links) == "o/r"
    assert (
        github_repo({"Funding": "https://github.com/sponsors/o", "Code": "https://github.com/o/r.git"})
        == "o/r"
    )


def test_a_long_body_is_cut_at_a_line_end_and_marked() -> None:
    body = "line of notes\n" * 1000
    cut = trimmed(release("v1", body))
    assert cut.truncated and len(cut.body) <= BODY_LIMIT and cut.body.endswith("line of notes")
    assert trimmed(release("v1", "short")) == release("v1", "short")


def test_index_metadata_parsers() -> None:
    assert links_from_json(
        {"info": {"project_urls": {"Source": "https://github.com/o/r", "N": None}, "home_page": "https://h"}}
    ) == {"Source": "https://github.com/o/r", "Homepage": "https://h"}
    assert links_from_json([]) == {} and links_from_json({"info": None}) == {}
    text = (
        "Metadata-Version: 2.1\nName: p\nHome-page: UNKNOWN\n"
        "Project-URL: Changelog, https://c\nProject-URL: bad\n\nbody"
    )
    assert links_from_metadata(text) == {"Changelog": "https://c"}
    wheel = "p-1.0-py3-none-any.whl"
    page = {
        "files": [
            {"filename": wheel, "url": wheel, "core-metadata": True},
            {"filename": "p-2.0.tar.gz", "url": "p-2.0.tar.gz"},
        ]
    }
    assert (
        metadata_url(page, "1.0", "https://i/simple/p/")
        == "https://i/simple/p/p-1.0-py3-none-any.whl.metadata"
    )
    assert metadata_url(page, "2.0", "https://i/simple/p/") is None
