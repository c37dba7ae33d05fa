"""`upgrade-deps audit`: argument handling, exit codes, JSON output, and where distributions come from."""

from __future__ import annotations

import hashlib
import json
import shutil
from argparse import Namespace
from pathlib import Path

import pytest
from aiohttp import web

from bot.audit.audit_command import audit_command, main, parse_change
from bot.errors import BadArgumentsError
from bot.files.config import Config
from tests.support.audit_repo import AuditRepo, pyproject
from tests.support.http import serving


def _args(repo: Path, cache: Path, *changes: str, fmt: str = "text") -> Namespace:
    return Namespace(repo=repo, config=None, format=fmt, changes=list(changes), cache_dir=cache)


def test_text_output_and_exit_code_one_on_errors(
    audit_repo: AuditRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(audit_repo.root, tmp_path, "demo-lib==1.0..2.0")) == 1
    out = capsys.readouterr().out
    assert "app/main.py:19:5: error: 'demo_lib.connect' no longer accepts the keyword 'secure'" in out
    assert out.endswith("9 errors, 5 warnings, 2 notes\n")


def test_json_output(audit_repo: AuditRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args(audit_repo.root, tmp_path, "demo-lib==1.0..2.0", fmt="json")) == 1
    items = json.loads(capsys.readouterr().out)
    assert len(items) == 16
    assert all(
        set(item) == {"file", "line", "column", "package", "symbol", "kind", "severity", "message"}
        for item in items
    )
    assert {
        "file": "app/main.py",
        "line": 24,
        "column": 5,
        "package": "demo-lib",
        "symbol": "demo_lib.core.spawn",
        "kind": "new-required",
        "severity": "error",
        "message": "'demo_lib.core.spawn' requires 'device' in demo-lib 2.0 and this call does not pass it.",
    } in items


def test_exit_zero_when_nothing_breaks(
    audit_repo: AuditRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "clean"
    root.mkdir()
    shutil.copytree(audit_repo.root / "wheelhouse", root / "wheelhouse")
    (root / "pyproject.toml").write_text(pyproject("1.0"), encoding="utf-8")
    (root / "uv.lock").write_text(audit_repo.old_lock, encoding="utf-8")
    (root / "svc.py").write_text("from demo_lib import stable\nstable(1, b=2)\n", encoding="utf-8")
    assert main(_args(root, tmp_path / "cache", "demo-lib==1.0..2.0")) == 0
    assert (
        capsys.readouterr().out
        == "demo-lib 1.0 -> 2.0\n  no breaking changes found\n0 errors, 0 warnings, 0 notes\n"
    )


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("demo-lib==1.0", "argument 'demo-lib==1.0': expected PKG==OLD..NEW"),
        ("demo-lib==1.0..two", "argument 'demo-lib==1.0..two': Invalid version: 'two'"),
        ("-bad-==1.0..2.0", "argument '-bad-==1.0..2.0': expected PKG==OLD..NEW"),
    ],
)
def test_malformed_arguments_are_refused(
    audit_repo: AuditRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str], argument: str, expected: str
) -> None:
    assert main(_args(audit_repo.root, tmp_path, argument)) == 2
    assert expected in capsys.readouterr().err
    with pytest.raises(BadArgumentsError):
        parse_change(argument)


def test_unknown_version_is_refused_naming_where_it_looked(
    audit_repo: AuditRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(audit_repo.root, tmp_path, "demo-lib==1.0..9.0")) == 2
    assert "demo-lib 9.0: no distribution found (searched: wheelhouse)" in capsys.readouterr().err


async def test_versions_come_from_a_json_simple_index(audit_repo: AuditRepo, tmp_path: Path) -> None:
    """The production path: PEP 691 index pages and wheel downloads over HTTP, hashes verified."""
    wheels = {p.name: p.read_bytes() for p in (audit_repo.root / "wheelhouse").iterdir()}
    requests: list[str] = []

    async def page(request: web.Request) -> web.Response:
        requests.append(request.path)
        files = [
            {
                "filename": name,
                "url": f"../../files/{name}",
                "hashes": {"sha256": hashlib.sha256(data).hexdigest()},
            }
            for name, data in sorted(wheels.items())
        ]
        return web.json_response({"meta": {"api-version": "1.1"}, "name": "demo-lib", "files": files})

    async def file(request: web.Request) -> web.Response:
        requests.append(request.path)
        return web.Response(body=wheels[request.match_info["name"]])

    app = web.Application()
    app.router.add_get("/simple/demo-lib/", page)
    app.router.add_get("/files/{name}", file)
    async with serving(app) as base:
        root = tmp_path / "remote"
        shutil.copytree(audit_repo.root / "app", root / "app")
        (root / "pyproject.toml").write_text(
            f'[project]\nname = "svc"\nversion = "0"\n[tool.uv]\nindex-url = "{base}/simple"\n',
            encoding="utf-8",
        )
        report = await audit_command(
            root, Config(), [parse_change("demo-lib==1.0..2.0")], cache_dir=tmp_path / "c"
        )
    (package,) = report.packages
    assert package.error is None
    assert ("app/main.py", 19, "keyword-removed") in {(f.file, f.line, f.kind) for f in package.findings}
    assert list((tmp_path / "c" / "downloads").iterdir()) == []  # streamed archives are not kept
    assert sorted(requests) == sorted(
        ["/simple/demo-lib/", "/simple/demo-lib/", *(f"/files/{name}" for name in wheels)]
    )


def test_dispatch_through_the_upgrade_deps_entry_point(
    audit_repo: AuditRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main as cli

    assert cli(["audit", "--repo", str(audit_repo.root), "--format", "json", "demo-lib==1.0..2.0"]) == 1
    assert len(json.loads(capsys.readouterr().out)) == 16
    assert cli(["checklists", "validate", "--repo", str(audit_repo.root), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {
            "package": "demo-lib",
            "path": ".github/upgrade-deps/checklists/demo-lib.md",
            "missing": [],
            "stale": [],
            "changed": [],
            "problems": [],
            "fixed": False,
        }
    ]
