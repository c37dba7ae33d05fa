"""The built wheel, pip-installed into a fresh virtual environment as in the image, runs every command."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import aiohttp
import pytest
from uv import find_uv_bin

from tests.fakegithub.server import FakeGitHub
from tests.support.appkeys import key_pair
from tests.support.http import free_port
from tests.support.repos import copy_example, git

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 300  # seconds for one build or install step: generous, the machine is shared


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(instruction, arguments) of each line of a Dockerfile, continuation lines joined, comments left out."""
    found: list[tuple[str, str]] = []
    pending = ""
    for line in dockerfile.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, arguments = pending.strip().partition(" ")
        found.append((keyword.upper(), arguments.strip()))
        pending = ""
    return found


@cache
def dockerfile() -> list[tuple[str, str]]:
    return instructions((ROOT / "Dockerfile").read_text())


def image_sources() -> list[str]:
    """What the image's build stage copies from the repository: the wheel is built from exactly that."""
    sources: list[str] = []
    for words in (shlex.split(arguments) for keyword, arguments in dockerfile() if keyword == "COPY"):
        if not any(word.startswith("--from") for word in words):
            sources += words[:-1]
    return sources


def healthcheck(port: int) -> list[str]:
    """The image's HEALTHCHECK command, aimed at `port` instead of the image's 8080."""
    [arguments] = [arguments for keyword, arguments in dockerfile() if keyword == "HEALTHCHECK"]
    command: list[str] = json.loads(arguments[arguments.index("CMD ") + 4 :])
    return [word.replace(":8080/", f":{port}/") for word in command]


def isolated_env(**extra: str) -> dict[str, str]:
    """The caller's environment without anything pointing Python, pip or a virtual environment elsewhere.

    HOME and UV_CACHE_DIR stay: the locked dependencies come from the uv cache `scripts/setup` filled.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))
    }
    env.update(PIP_CONFIG_FILE=os.devnull, UV_PYTHON_DOWNLOADS="never", **extra)
    return env


def call(
    command: Sequence[str | Path], *, cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    words = [str(word) for word in command]
    return subprocess.run(words, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)


def check(command: Sequence[str | Path], *, cwd: Path, env: dict[str, str]) -> str:
    done = call(command, cwd=cwd, env=env)
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    scratch: Path  # a directory with no package in it, the commands' working directory

    def command(self, name: str) -> Path:
        return self.venv / "bin" / name


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build the wheel offline from the image's sources; install it into a fresh venv as the image does."""
    tmp = tmp_path_factory.mktemp("packaging")
    source = tmp / "source"
    for name in image_sources():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_dir():
            # symlinks=True: bot/templates stays a link to templates/, as COPY keeps it.
            shutil.copytree(ROOT / name, target, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, target)
    env = isolated_env()
    uv = find_uv_bin()
    # The build backend is the locked one in the project's .venv (the `build` group): nothing is downloaded.
    check([uv, "build", "--wheel", "--offline", "--no-build-isolation", "--python", sys.executable,
           "--out-dir", tmp / "dist", source], cwd=tmp, env=env)  # fmt: skip
    [wheel] = (tmp / "dist").glob("*.whl")
    venv = tmp / "venv"
    check([sys.executable, "-m", "venv", venv], cwd=tmp, env=env)
    check([uv, "sync", "--locked", "--offline", "--no-dev", "--no-install-project", "--inexact"],
          cwd=source, env=isolated_env(UV_PROJECT_ENVIRONMENT=str(venv)))  # fmt: skip
    check([venv / "bin" / "python", "-m", "pip", "install", "--no-index", "--quiet", wheel], cwd=tmp, env=env)
    scratch = tmp / "scratch"
    scratch.mkdir()
    return Installed(wheel, venv, scratch)


def test_the_wheel_ships_every_template_and_only_the_packages(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    templates = {f"bot/templates/{p.relative_to(ROOT / 'templates').as_posix()}"
                 for p in (ROOT / "templates").rglob("*") if p.is_file()}  # fmt: skip
    assert any(name.startswith("bot/templates/messages/") for name in templates)
    assert templates | {"checklists/_TEMPLATE.md"} <= names
    tops = {name.split("/")[0] for name in names}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"bot", "handlers", "checklists"}


LOAD_EVERY_TEMPLATE = """
import json, bot, checklists, handlers
from bot.text.render import environment
env = environment()
names = env.list_templates()
for name in names:
    env.get_template(name)
print(json.dumps({"modules": [m.__file__ for m in (bot, checklists, handlers)], "templates": names}))
"""


def test_the_installed_package_loads_every_template_from_itself(installed: Installed) -> None:
    out = check([installed.command("python"), "-c", LOAD_EVERY_TEMPLATE], cwd=installed.scratch,
                env=isolated_env())  # fmt: skip
    found = json.loads(out)
    assert all(Path(module).is_relative_to(installed.venv) for module in found["modules"]), found["modules"]
    source = sorted(p.relative_to(ROOT / "templates").as_posix() for p in (ROOT / "templates").rglob("*.j2"))
    assert sorted(found["templates"]) == source


def test_run_on_the_example_renders_the_summary_from_the_wheel(installed: Installed, tmp_path: Path) -> None:
    repo = copy_example(ROOT, tmp_path / "example")
    # A missing checklist (made from checklists/_TEMPLATE.md) and a failing verification command
    # (reported through templates/messages/): each comes from the wheel or the run fails.
    checklist = repo / ".agents/skills/upgrade-deps/checklists/transformers.md"
    checklist.unlink()
    with (repo / ".github/upgrade-deps.toml").open("a") as config:
        config.write('\n[[verify]]\nname = "smoke"\nrun = "echo checked; exit 1"\n')
    git(repo, "commit", "-qam", "no transformers checklist, a failing check")
    request = ["sglang==0.5.10", "transformers==4.57.1"]
    done = call([installed.command("upgrade-deps"), "run", "--repo", repo, *request],
                cwd=installed.scratch, env=isolated_env())  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr  # landed; breaking call site and failed check
    assert "Traceback" not in done.stderr
    assert done.stdout.startswith("## Dependency Upgrade Summary\n")
    assert (repo / "upgrade-summary.md").read_text() in done.stdout
    assert "| `sglang` | `0.5.9` | `0.5.10` | sglang |" in done.stdout
    assert "- Created from the template" in done.stdout
    assert "## Affected Files" in checklist.read_text()
    assert 'verification command "smoke" failed; the upgrade landed but needs a look' in done.stdout
    assert "### Mechanical Fixes" in done.stdout  # a command that failed before judges no fix
    assert git(repo, "log", "--format=%s", "-n", "5").splitlines() == [
        "sglang: follow API moves in 0.5.10",
        "sglang: prune compat for 0.5.10",
        "Re-lock sglang, vllm after the upgrade",
        "Pin sglang 0.5.10, transformers 4.57.1",
        "Update API checklists of transformers to the code's real imports",
    ]


def test_audit_and_checklists_run_from_the_wheel(installed: Installed, tmp_path: Path) -> None:
    repo = copy_example(ROOT, tmp_path / "example")
    command, env, cwd = installed.command("upgrade-deps"), isolated_env(), installed.scratch
    usage = call([command, "audit", "--help"], cwd=cwd, env=env)
    assert usage.returncode == 0 and "PKG==OLD..NEW" in usage.stdout, usage.stdout + usage.stderr
    audit = call([command, "audit", "--repo", repo, "sglang==0.5.9..0.5.10"], cwd=cwd, env=env)
    assert audit.returncode == 1, audit.stdout + audit.stderr
    assert (
        "src/app/engine.py:5:12: error: " in audit.stdout and "1 error, 2 warnings, 0 notes" in audit.stdout
    )
    fixed = call([command, "fix", "--repo", repo, "sglang==0.5.9..0.5.10"], cwd=cwd, env=env)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr  # nothing is left that no fix proves
    assert "  src/app/engine.py:5: keyword tp_size= -> tensor_parallel_size=\n" in fixed.stdout
    assert "tensor_parallel_size=2" in (repo / "src/app/engine.py").read_text()
    checklists = call([command, "checklists", "validate", "--repo", repo], cwd=cwd, env=env)
    assert checklists.returncode == 1, checklists.stdout + checklists.stderr  # vllm and others have none
    assert (
        "Checklist validation for sglang (.agents/skills/upgrade-deps/checklists/sglang.md):\n- No changes"
        in (checklists.stdout)
    )
    assert "Traceback" not in usage.stderr + audit.stderr + fixed.stderr + checklists.stderr


def test_app_manifest_reads_the_manifest_inside_the_wheel(installed: Installed) -> None:
    command, env, cwd = installed.command("upgrade-deps"), isolated_env(), installed.scratch
    printed = call([command, "app-manifest", "--url", "https://bot.example.org"], cwd=cwd, env=env)
    assert printed.returncode == 0, printed.stdout + printed.stderr
    assert json.loads(printed.stdout)["hook_attributes"]["url"] == "https://bot.example.org/webhook"


@contextlib.asynccontextmanager
async def serving(installed: Installed, fake: FakeGitHub, tmp: Path) -> AsyncIterator[int]:
    """The wheel's `upgrade-deps serve` against the fake GitHub; yields its port once /healthz answers."""
    port = free_port()
    env = isolated_env(
        HOME=str(tmp), GITHUB_APP_ID=str(fake.app_id), GITHUB_PRIVATE_KEY=key_pair()[0],
        GITHUB_WEBHOOK_SECRET="packaging-test-secret", GITHUB_API_URL=fake.url,
        UPGRADE_DEPS_DB=str(tmp / "jobs.sqlite3"), UPGRADE_DEPS_SANDBOX_DIR=str(tmp / "sandboxes"),
    )  # fmt: skip
    with (tmp / "server.log").open("wb") as log:
        server = await asyncio.create_subprocess_exec(
            installed.command("upgrade-deps"), "serve", "--host", "127.0.0.1", "--port", str(port),
            cwd=installed.scratch, env=env, stdout=log, stderr=log,
        )  # fmt: skip
        try:
            await _until_healthy(server, port, log=tmp / "server.log")
            yield port
        finally:
            if server.returncode is None:
                server.terminate()
                await asyncio.wait_for(server.wait(), 60)


async def _until_healthy(server: asyncio.subprocess.Process, port: int, *, log: Path) -> None:
    deadline = time.monotonic() + 120  # a wait for readiness, not a timing assertion
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            assert server.returncode is None, f"serve exited {server.returncode}:\n{log.read_text()}"
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise AssertionError(f"serve did not answer /healthz:\n{log.read_text()}")


async def test_serve_from_the_wheel_passes_the_images_healthcheck(
    installed: Installed, fake: FakeGitHub, tmp_path: Path
) -> None:
    path = f"{installed.venv / 'bin'}{os.pathsep}{os.environ['PATH']}"  # the image's PATH: its venv first
    env, cwd = isolated_env(PATH=path), installed.scratch
    async with serving(installed, fake, tmp_path) as port:
        healthy = await asyncio.to_thread(call, healthcheck(port), cwd=cwd, env=env)
        assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    # Nothing listens there any more: the same check fails, so a passing one means something.
    down = await asyncio.to_thread(call, healthcheck(port), cwd=cwd, env=env)
    assert down.returncode != 0
