"""Release notes through the real index client (a loopback index) and GitHub's releases (the fake GitHub)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.model import PackageNotes, Request, Section, UpgradeResult, VersionChange
from bot.pipeline.release_notes import MAX_PACKAGES, MAX_RELEASES, NotesCache, gather, notes_for
from bot.pipeline.summary import render_summary
from bot.service.github import GitHub
from bot.service.publication import OUTPUT_LIMIT, bound
from bot.service.release_source import InstallationReleases
from bot.tools.release_index import http_getter
from tests.fakegithub.server import FakeGitHub
from tests.support.http import free_port, serving
from tests.support.notes_index import NotesIndex, running_index

INSTALLATION = 7
SGLANG = {"Changelog": "https://github.com/sgl-project/sglang/releases", "Homepage": "https://sglang.ai"}


@pytest.fixture
async def index() -> AsyncIterator[NotesIndex]:
    async with running_index() as served:
        yield served


def change(name: str, old: str, new: str, *, requested: bool = True) -> VersionChange:
    return VersionChange(name, (old,), (new,), ("default",), requested, requested)


async def lookup(github: GitHub, index: NotesIndex | str, item: VersionChange, cache: Path) -> PackageNotes:
    url = index.simple if isinstance(index, NotesIndex) else index
    async with aiohttp.ClientSession() as session:
        return await notes_for(
            item,
            index=url,
            get=http_getter(session, timeout=10),
            source=InstallationReleases(github, INSTALLATION),
            cache=NotesCache(cache),
        )


async def test_links_from_the_json_api_and_the_releases_in_range(
    fake: FakeGitHub, github: GitHub, index: NotesIndex, tmp_path: Path
) -> None:
    index.links["sglang"] = {"0.5.10": SGLANG}
    index.json_api.add("sglang")
    for tag, body in [
        ("v0.5.8", "old"),
        ("v0.5.9", "Fixes #12, thanks @alice"),
        ("sglang-router-v0.5.10", "x"),
        ("v0.5.10", "<script>alert(1)</script>\n- **faster** decoding"),
        ("v0.5.11", "later"),
    ]:
        fake.add_release("sgl-project/sglang", tag, body)
    fake.add_release("sgl-project/sglang", "v0.5.10-draft", "not published", draft=True)
    notes = await lookup(github, index, change("sglang", "0.5.8", "0.5.10"), tmp_path)
    assert notes.problem == "" and notes.repository == "sgl-project/sglang"
    assert [link.label for link in notes.links] == ["Changelog", "Homepage"]
    # After 0.5.8, up to 0.5.10, newest first; another package's tag and the draft are not ours.
    assert [r.tag for r in notes.releases] == ["v0.5.10", "v0.5.9"]
    assert index.requests == ["/pypi/sglang/0.5.10/json"]
    text = render_summary(
        UpgradeResult(
            request=Request((), "sglang==0.5.10"),
            outcome="landed",
            date="d",
            sections={"notes": Section("done")},
            release_notes=(notes,),
        )
    )
    assert (
        "#### sglang 0.5.8 → 0.5.10" in text
        and "[Changelog](https://github.com/sgl-project/sglang/releases)" in text
    )
    assert "> `<script>`alert(1)`</script>`" in text and "> - **faster** decoding" in text
    assert "`@alice`" in text and "`#12`" in text  # no ping, no link to this repository's issue 12


async def test_simple_api_metadata_when_there_is_no_json_api(
    fake: FakeGitHub, github: GitHub, index: NotesIndex, tmp_path: Path
) -> None:
    index.links["tqdm-extras"] = {"1.1": {"Source": "https://github.com/example/tqdm-extras"}}
    fake.add_release("example/tqdm-extras", "1.1", "Release one-one")
    notes = await lookup(github, index, change("tqdm-extras", "1.0", "1.1", requested=False), tmp_path)
    assert [r.body for r in notes.releases] == ["Release one-one"] and notes.problem == ""
    assert index.requests == [
        "/pypi/tqdm-extras/1.1/json",
        "/simple/tqdm-extras/",
        "/files/tqdm_extras-1.1-py3-none-any.whl.metadata",
    ]


async def test_no_releases_offline_and_unknown_are_said_never_invented(
    fake: FakeGitHub, github: GitHub, index: NotesIndex, tmp_path: Path
) -> None:
    index.links["quiet"] = {"2.0": {"Repository": "https://github.com/example/quiet"}}
    fake.add_release("example/quiet", "v3.0", "out of range")
    quiet = await lookup(github, index, change("quiet", "1.0", "2.0"), tmp_path)
    assert quiet.releases == () and quiet.problem == "no GitHub release of example/quiet between 1.0 and 2.0"
    index.links["nolinks"] = {"1.1": {}}
    bare = await lookup(github, index, change("nolinks", "1.0", "1.1"), tmp_path)
    assert bare.problem == "its index metadata names no GitHub repository to read releases from"
    offline = await lookup(
        github, f"http://127.0.0.1:{free_port()}/simple", change("gone", "1", "2"), tmp_path
    )
    assert offline.problem.startswith("offline: cannot reach http://127.0.0.1:") and offline.links == ()
    unknown = await lookup(github, "wheelhouse", change("local", "1", "2"), tmp_path)  # find-links directory
    assert unknown.problem.startswith("unknown: it does not come from a package index")
    plain = await lookup(github, "http://index.example/simple", change("plain", "1", "2"), tmp_path)
    assert plain.problem == "http://index.example/simple is not an https index"
    assert not any("/releases" in path for _, path, _ in fake.requests if "quiet" not in path)


async def test_cached_per_package_and_versions(
    fake: FakeGitHub, github: GitHub, index: NotesIndex, tmp_path: Path
) -> None:
    index.links["sglang"] = {"0.5.10": SGLANG}
    index.json_api.add("sglang")
    fake.add_release("sgl-project/sglang", "v0.5.10", "notes")
    first = await lookup(github, index, change("sglang", "0.5.9", "0.5.10"), tmp_path)
    calls, asked = len(fake.requests), len(index.requests)
    again = await lookup(github, index, change("sglang", "0.5.9", "0.5.10", requested=False), tmp_path)
    assert (len(fake.requests), len(index.requests)) == (calls, asked)
    assert again.releases == first.releases and again.requested is False
    # An offline answer is not kept: the next run asks again.
    gone = f"http://127.0.0.1:{free_port()}/simple"
    await lookup(github, gone, change("later", "1", "2"), tmp_path)
    assert not list((tmp_path / "release-notes").glob("later-*"))


async def test_many_long_releases_are_trimmed_with_a_visible_note(
    fake: FakeGitHub, github: GitHub, index: NotesIndex, tmp_path: Path
) -> None:
    index.links["big"] = {v: {"Source": "https://github.com/example/big"} for v in ("1.0.114", "1.0.5")}
    for patch in range(120):  # more than one page of 100: the new version's tag is asked for itself
        fake.add_release("example/big", f"v1.0.{patch}", f"## 1.0.{patch}\n" + "a long line of notes\n" * 400)
    notes = await lookup(github, index, change("big", "1.0.100", "1.0.114"), tmp_path)
    assert len(notes.releases) == MAX_RELEASES and notes.more == 4 and notes.releases[0].tag == "v1.0.114"
    assert all(r.truncated and len(r.body) <= 2500 for r in notes.releases)
    small = await lookup(github, index, change("big", "1.0.4", "1.0.5"), tmp_path)  # not on the first page
    assert [r.tag for r in small.releases] == ["v1.0.5"]
    assert any(path.endswith("/releases/tags/v1.0.5") for _, path, _ in fake.requests)
    text = render_summary(
        UpgradeResult(
            request=Request((), "big==1.0.114"),
            outcome="landed",
            date="d",
            sections={"notes": Section("done")},
            release_notes=(notes,) * 3,
        )
    )
    assert "_Truncated: 4 older release(s) in this range are not shown" in text
    assert "Truncated to stay within GitHub's limits" in text
    shown = bound(text)
    assert (
        len(shown) <= OUTPUT_LIMIT and len(text) > OUTPUT_LIMIT and "cut at 65535 characters" in shown[-200:]
    )


async def test_all_changes_in_order_within_a_deadline(
    fake: FakeGitHub, github: GitHub, index: NotesIndex, tmp_path: Path
) -> None:
    index.links["sglang"] = {"0.5.10": SGLANG}
    index.json_api.add("sglang")
    fake.add_release("sgl-project/sglang", "v0.5.10", "notes")
    arrived, released = asyncio.Event(), asyncio.Event()

    async def never(request: web.Request) -> web.Response:
        arrived.set()
        await released.wait()  # an index that takes the connection and answers only after the deadline
        return web.Response(status=503)

    app = web.Application()
    app.router.add_get("/{tail:.*}", never)
    async with serving(app) as stuck:
        changes = [change("zlib-ng", "1", "2", requested=False), change("sglang", "0.5.9", "0.5.10"),
                   change("slow", "1.0", "1.1", requested=False)]  # fmt: skip
        # 10 s: a bound the quick lookups meet on a busy machine; only the stuck index reaches it.
        indexes = {"sglang": index.simple, "slow": f"{stuck}/simple"}
        notes = await gather(changes, index_of=lambda c: indexes.get(c.package), cache_dir=tmp_path,
                             source=InstallationReleases(github, INSTALLATION), deadline=10.0)  # fmt: skip
        released.set()
    assert arrived.is_set()
    assert [(n.package, n.problem) for n in notes] == [
        ("sglang", ""),  # requested first
        ("slow", "not looked up: the lookups took longer than 10 s"),
        ("zlib-ng", "unknown: it does not come from a package index (a local directory or a URL)"),
    ]


def test_changes_that_need_no_network_load_no_http_client(tmp_path: Path) -> None:
    # A fresh interpreter: what a run whose packages all come from local sources imports.
    script = f"""
import asyncio, sys
from pathlib import Path
from bot.model import VersionChange
from bot.pipeline.release_notes import MAX_PACKAGES, gather

class Nowhere:
    async def list_releases(self, repo): raise AssertionError(repo)
    async def release_by_tag(self, repo, tag): raise AssertionError(repo)

changes = [VersionChange(f"p{{i:02d}}", ("1",), ("2",), ("default",), False, False)
           for i in range(MAX_PACKAGES + 1)]
indexes = {{"p00": "file:///srv/simple"}}
cache = Path({str(tmp_path)!r})
notes = asyncio.run(gather(changes, index_of=lambda c: indexes.get(c.package), cache_dir=cache,
                           source=Nowhere()))
print(sorted({{n.problem for n in notes}}))
print("aiohttp" in sys.modules)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    problems, imported = done.stdout.splitlines()
    assert problems == str(sorted({
        "unknown: it does not come from a package index (a local directory or a URL)",
        f"not looked up: more than {MAX_PACKAGES} packages changed",
    }))  # fmt: skip
    assert imported == "False"
