"""The old versions the audit compares with are unpacked while uv locks, not after it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from aiohttp import web

from bot.pipeline.context import RunOptions, Runtime
from bot.pipeline.request import parse_request
from bot.pipeline.upgrade import run_upgrade
from bot.tools.isolation import Isolation
from tests.support.repos import copy_example, dual_repo, git


@pytest.mark.asyncio
async def test_the_old_distribution_is_in_the_audit_cache_before_the_audit_starts(
    project_root: Path, tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = copy_example(project_root, tmp_path / "example")
    # Without checklists nothing else reads the old distributions while uv locks (step 0.5 does).
    git(repo, "rm", "-rq", ".agents/skills/upgrade-deps/checklists")
    git(repo, "commit", "-qm", "no checklists")
    cache = tmp_path / "cache"
    cached: dict[str, list[str]] = {}

    async def progress(step: str) -> None:
        if step == "audit" and step not in cached:  # the first audit, not the one after fixes
            folder = cache / "dist"
            cached[step] = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    result = await run_upgrade(
        repo, parse_request(["sglang==0.5.10"]), runtime=Runtime(environ, isolation, cache_dir=cache),
        progress=progress,
    )  # fmt: skip
    assert result.outcome in ("landed", "breaking"), result.error
    old = [name for name in cached["audit"] if name.startswith("sglang-0.5.9-")]
    assert old, cached


@pytest.mark.asyncio
async def test_the_index_is_asked_about_yanked_versions_while_uv_locks(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    events: list[str] = []

    async def page(request: web.Request) -> web.Response:
        events.append(f"asked {request.match_info['name']}")
        files = [{"filename": "transformers-4.57.1-py3-none-any.whl", "url": "x.whl", "hashes": {},
                  "yanked": "broken tokenizer"}]  # fmt: skip
        body = {"meta": {"api-version": "1.1"}, "name": "transformers", "files": files}
        return web.json_response(body, content_type="application/vnd.pypi.simple.v1+json")

    app = web.Application()
    app.router.add_get("/simple/{name}/", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        index = f"http://127.0.0.1:{runner.addresses[0][1]}/simple"
        repo = dual_repo(tmp_path)
        # The baseline says the packages come from that index (uv itself still locks offline).
        for name in ("uv.lock", "uv.vllm.lock"):
            text = (repo / name).read_text()
            (repo / name).write_text(text.replace('registry = "wheelhouse"', f'registry = "{index}"'))
        git(repo, "commit", "-qam", "locks name a remote index")

        async def progress(step: str) -> None:
            events.append(step)

        result = await run_upgrade(
            repo, parse_request(["transformers==4.57.1"]), runtime=Runtime(environ, isolation),
            progress=progress,
        )  # fmt: skip
    finally:
        await runner.cleanup()
    assert result.outcome == "landed", result
    assert "transformers 4.57.1 is yanked from its index (broken tokenizer)" in [
        w.message for w in result.warnings
    ]
    assert events.index("asked transformers") < next(
        i for i, e in enumerate(events) if e.startswith("lock vllm ")
    )


@pytest.mark.asyncio
async def test_the_requested_version_is_fetched_from_the_index_while_uv_locks(
    tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = dual_repo(tmp_path)
    wheel = "transformers-4.57.1-py3-none-any.whl"
    data = (repo / "wheelhouse" / wheel).read_bytes()
    served: list[str] = []

    async def page(request: web.Request) -> web.Response:
        files = [{"filename": wheel, "url": f"../../files/{wheel}",
                  "hashes": {"sha256": hashlib.sha256(data).hexdigest()}}]  # fmt: skip
        body = {"meta": {"api-version": "1.1"}, "name": "transformers", "files": files}
        return web.json_response(body, content_type="application/vnd.pypi.simple.v1+json")

    async def file(request: web.Request) -> web.Response:
        served.append(request.match_info["name"])
        return web.Response(body=data)

    app = web.Application()
    app.router.add_get("/simple/{name}/", page)
    app.router.add_get("/files/{name}", file)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    cache = tmp_path / "cache"
    cached: dict[str, list[str]] = {}

    async def progress(step: str) -> None:
        if step == "audit" and step not in cached:
            folder = cache / "dist"
            cached[step] = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        index = f"http://127.0.0.1:{runner.addresses[0][1]}/simple"
        for name in ("uv.lock", "uv.vllm.lock"):
            text = (repo / name).read_text()
            (repo / name).write_text(text.replace('registry = "wheelhouse"', f'registry = "{index}"'))
        git(repo, "commit", "-qam", "locks name a remote index")
        runtime = Runtime(environ, isolation, cache_dir=cache)
        request = parse_request(["transformers==4.57.1"])
        result = await run_upgrade(repo, request, runtime=runtime, progress=progress)
    finally:
        await runner.cleanup()
    assert result.outcome == "landed", result
    assert served == [wheel]
    assert [n for n in cached["audit"] if n.startswith("transformers-4.57.1-")], cached


GUARDED = """\
import sglang

if sglang.__version__ < "0.5.10":
    LEGACY = True
"""


@pytest.mark.asyncio
async def test_version_guards_are_found_while_uv_locks(
    project_root: Path, tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = copy_example(project_root, tmp_path / "example")
    (repo / "src" / "app" / "guarded.py").write_text(GUARDED)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a version guard")

    async def progress(step: str) -> None:
        if step == "audit":
            # Had the scan waited for the audit, it would not find the guard any more.
            (repo / "src" / "app" / "guarded.py").write_text("import sglang\n")

    # No fixes: their re-audit after editing the code scans again, as it must.
    runtime, options = Runtime(environ, isolation, cache_dir=tmp_path / "c"), RunOptions(fix=False)
    request = parse_request(["sglang==0.5.10"])
    result = await run_upgrade(repo, request, runtime=runtime, options=options, progress=progress)
    assert result.audit is not None
    guards = [g for p in result.audit.packages for g in p.guards]
    assert [(g.file, g.line) for g in guards] == [("src/app/guarded.py", 3)]
